//! Telling a step held for debugging from a running command. The Pod object cannot: both
//! are a running container without a termination message. The step's log can: a held
//! runner's last line there is its notice ([`HELD_NOTICE`], then four instructions). So
//! when `status` fetches from the cluster it reads the last lines of the log of each running
//! step that may be held (`debug: onFailure`), and shows `held` with the command to go on. A
//! log it cannot read (no RBAC for `pods/log`, a file as input) changes nothing.

use super::state::DEBUG_ARMED;
use super::{StepState, StepStatus};
use crate::protocol::HELD_NOTICE;

/// The `debug` of a step whose log shows it held right now.
pub(crate) const HELD: &str = "held";
/// Log lines read: the notice takes five, and the command's last lines may come after it
/// (the runtime reads stdout and stderr separately, so their order in the log is loose).
pub(crate) const TAIL_LINES: usize = 20;
/// How the runner's own lines begin.
const RUNNER_PREFIX: &str = "kueueleuleu-step: ";

/// The `go on` instruction when the runner's last line in the log is the hold notice. A
/// hold that ended (`debug retry` runs the command again) is followed by the runner's
/// `hold ended` line; the command's own lines around the notice do not matter.
pub(crate) fn hold_in_log(tail: &str) -> Option<String> {
    let lines: Vec<&str> = tail.lines().collect();
    let last = lines.iter().rposition(|l| l.starts_with(RUNNER_PREFIX))?;
    if !lines[last].ends_with(HELD_NOTICE) {
        return None;
    }
    let go_on = lines[last..]
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("go on:"))
        .map_or(String::new(), |cmd| cmd.trim().to_string());
    Some(go_on)
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
        // The command's lines may land after the notice (stdout and stderr are read apart).
        assert!(hold_in_log(&format!("{LOG}late output\n")).is_some());
        // A hold that ended (`debug retry` runs the command again) is not held any more.
        let retried = format!("{LOG}kueueleuleu-step: test: hold ended: retry\nretrying\n");
        assert_eq!(hold_in_log(&retried), None);
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
