//! Telling a step held for debugging from a running command. The Pod object cannot: both
//! are a running container without a termination message. The step's log can: a held
//! runner's last lines are its notice ([`HELD_NOTICE`] and four indented instructions). So
//! when `status` fetches from the cluster it reads the last lines of the log of each running
//! step that may be held (`debug: onFailure`), and shows `held` with the command to go on. A
//! log it cannot read (no RBAC for `pods/log`, a file as input) changes nothing.

use super::state::DEBUG_ARMED;
use super::{StepState, StepStatus};
use crate::protocol::HELD_NOTICE;

/// The `debug` of a step whose log shows it held right now.
pub(crate) const HELD: &str = "held";
/// Log lines the notice takes: the summary and four instructions.
pub(crate) const NOTICE_LINES: usize = 5;

/// The `go on` instruction when the log's last lines are the hold notice (nothing has run
/// since: after `debug retry` the command's own output follows it).
pub(crate) fn hold_in_log(tail: &str) -> Option<String> {
    let lines: Vec<&str> = tail.lines().collect();
    let notice = lines.get(lines.len().checked_sub(NOTICE_LINES)?..)?;
    let indented = notice[1..].iter().all(|l| l.starts_with("  "));
    (notice[0].ends_with(HELD_NOTICE) && indented).then(|| {
        let go_on = notice.iter().find(|l| l.trim_start().starts_with("go on:"));
        go_on.map_or(String::new(), |l| {
            l.trim_start()["go on:".len()..].trim().to_string()
        })
    })
}

/// Marks the running steps that may be held and whose log shows the hold; `tail`
/// reads the last lines of a container's log (`None` when it cannot).
pub(crate) fn mark_held(steps: &mut [StepStatus], tail: &dyn Fn(&str) -> Option<String>) {
    for s in steps
        .iter_mut()
        .filter(|s| s.state == StepState::Running && s.debug.as_deref() == Some(DEBUG_ARMED))
    {
        if let Some(go_on) = tail(&s.name).as_deref().and_then(hold_in_log) {
            s.debug = Some(HELD.into());
            s.reason = Some("HeldForDebugging".into());
            s.message = Some(format!("go on with: {go_on}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    const LOG: &str = include_str!("../../tests/status/steps-debug-held.log");

    #[test]
    fn the_notice_at_the_end_of_the_log_is_a_hold() {
        let go_on = hold_in_log(LOG).unwrap();
        assert!(
            go_on.starts_with("kubectl exec held -n r12-scratch -c test --"),
            "{go_on}"
        );
        assert!(
            go_on.ends_with("kueueleuleu-step debug continue"),
            "{go_on}"
        );
        // Output after the notice (a `debug retry` ran the command again): not held.
        assert_eq!(hold_in_log(&format!("{LOG}retrying the tests\n")), None);
        assert_eq!(hold_in_log("just output\n"), None);
        assert_eq!(hold_in_log(""), None);
    }

    #[test]
    fn only_running_steps_armed_for_debug_are_looked_at() {
        let pod: Pod =
            serde_json::from_str(include_str!("../../tests/status/steps-debug-held.json")).unwrap();
        let mut steps = super::super::step_statuses(&pod);
        let asked = std::cell::RefCell::new(Vec::new());
        mark_held(&mut steps, &|c| {
            asked.borrow_mut().push(c.to_string());
            Some(LOG.to_string())
        });
        assert_eq!(
            *asked.borrow(),
            ["test"],
            "deploy waits: its log is not read"
        );
        assert_eq!(steps[0].debug.as_deref(), Some(HELD));
        assert_eq!(steps[0].reason.as_deref(), Some("HeldForDebugging"));
        // A log that cannot be read changes nothing.
        let mut steps = super::super::step_statuses(&pod);
        mark_held(&mut steps, &|_| None);
        assert_eq!(steps[0].debug.as_deref(), Some(DEBUG_ARMED));
    }
}
