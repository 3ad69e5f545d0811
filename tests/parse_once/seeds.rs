//! Both ways over every fuzz seed, and over mutations of them.

use super::{same_both_ways, spec};
use crate::cases::cases;
use crate::fuzz_mutate::{apply, mutation};
use crate::support_seeds::{corpus_config, seeds};
use kueueleuleu::object::Operation;
use proptest::prelude::*;

#[test]
fn every_seed_is_the_same_both_ways() {
    let mut handed = 0;
    let mut failures = Vec::new();
    for (path, input) in seeds() {
        for op in [Operation::Convert, Operation::Revert] {
            for all in [false, true] {
                for config in [None, Some(corpus_config())] {
                    match same_both_ways(input, op, &spec(config, all)) {
                        Ok(n) => handed += n,
                        Err(e) => {
                            failures.push(format!("{}: {op:?} all={all}:\n{e}", path.display()))
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The seeds hold dozens of annotated workloads: the eager path was really taken.
    assert!(
        handed > 200,
        "only {handed} objects were handed over with their trees"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(300),
        max_shrink_iters: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// `FUZZ_CASES` sets the number of cases (default 300).
    #[test]
    fn mutated_seeds_are_the_same_both_ways(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..3),
        revert in prop::bool::weighted(0.2),
        select_all in any::<bool>(),
        with_config in any::<bool>(),
    ) {
        let seeds = seeds();
        let mut input = seeds[seed.index(seeds.len())].1.clone();
        for m in &mutations {
            apply(&mut input, m);
        }
        let op = if revert { Operation::Revert } else { Operation::Convert };
        let config = spec(with_config.then(corpus_config), select_all);
        if let Err(e) = same_both_ways(&input, op, &config) {
            return Err(TestCaseError::fail(format!(
                "{op:?} selectAll {select_all}:\n{}\n----\n{e}",
                String::from_utf8_lossy(&input)
            )));
        }
    }
}
