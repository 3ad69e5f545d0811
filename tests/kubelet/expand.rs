//! `$(VAR)` expansion exactly as the kubelet does it for `env` values, `command` and `args`:
//! `$(NAME)` becomes the variable's value when it is defined and stays as written when not;
//! `$$` is an escaped `$`; any other `$` (including an unclosed `$(`) is kept literally.
//! `workingDir` is not expanded by the kubelet, so it is not expanded here either.

/// Expands `input` with `lookup`.
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            out.push_str(&input[checkpoint..i]);
            let rest = &input[i + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        match lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // The `$` and the next character are copied as they are.
                    let ch = rest.chars().next().unwrap();
                    out.push('$');
                    out.push(ch);
                    ch.len_utf8()
                }
            };
            i += 1 + advance;
            checkpoint = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&input[checkpoint..]);
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn follows_the_kubelet_rules() {
        let cases = [
            ("$(A)", "alpha"),
            ("x$(A)y$(A)", "xalphayalpha"),
            ("$(EMPTY)|", "|"),
            ("$(MISSING)", "$(MISSING)"),
            ("$$(A)", "$(A)"),
            ("$$$(A)", "$alpha"),
            ("$$", "$"),
            ("$A", "$A"),
            ("$", "$"),
            ("a$", "a$"),
            ("$(A", "$(A"),
            ("$()", "$()"),
            ("echo $HOME $(A)", "echo $HOME alpha"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &env), want, "{input}");
        }
    }
}
