//! A tiny `--name value` command line parser for the example programs (no dependency).

use std::collections::HashMap;

/// Whether `args` (without the program name) ask for help: `--help` or `-h` anywhere.
pub fn wants_help<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter().any(|a| matches!(a.as_ref(), "--help" | "-h"))
}

/// If the process's arguments ask for help, prints `usage` to stdout and exits with
/// status 0. Every example binary calls this first, so `--help` never reads as a
/// missing value or an unknown option.
pub fn exit_if_help(usage: &str) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if wants_help(&args) {
        println!("{usage}");
        std::process::exit(0);
    }
}

/// Options given as `--name value` pairs, plus `--flag` switches listed in `switches`.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
    /// Every `--name value` in order, for options that may repeat.
    all: Vec<(String, String)>,
}

impl Args {
    /// Parses `args` (without the program name). `switches` take no value.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        switches: &[&str],
    ) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut all = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let value = if switches.contains(&name) {
                "true".to_owned()
            } else {
                args.next()
                    .ok_or_else(|| format!("--{name} needs a value"))?
            };
            all.push((name.to_owned(), value.clone()));
            values.insert(name.to_owned(), value);
        }
        Ok(Self { values, all })
    }

    /// The value of `--name` parsed as `T`, or `default` when absent.
    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}")),
        }
    }

    /// The value of `--name` parsed as `T`, or `None` when absent.
    pub fn get_opt<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        self.values
            .get(name)
            .map(|v| v.parse().map_err(|e| format!("--{name} {v:?}: {e}")))
            .transpose()
    }

    /// Every value of a repeatable `--name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.all
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the switch `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Names given that are not in `known`, for an error message.
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        let mut unknown: Vec<_> = self
            .values
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        unknown.sort();
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()), &["quiet"])
    }

    #[test]
    fn values_and_switches_are_parsed() {
        let args = parse(&["--listen", "127.0.0.1:9", "--quiet"]).unwrap();
        assert_eq!(
            args.get::<String>("listen", String::new()).unwrap(),
            "127.0.0.1:9"
        );
        assert!(args.flag("quiet"));
        assert_eq!(args.get("missing", 7u32).unwrap(), 7);
    }

    #[test]
    fn help_is_recognised_anywhere() {
        assert!(super::wants_help(&["--help"]));
        assert!(super::wants_help(&["--listen", "x", "-h"]));
        assert!(!super::wants_help(&["--listen", "help"]));
        assert!(!super::wants_help::<&str>(&[]));
    }

    #[test]
    fn a_value_option_without_value_is_an_error() {
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["positional"]).is_err());
    }

    #[test]
    fn unparsable_values_and_unknown_names_are_reported() {
        let args = parse(&["--count", "x", "--colour", "red"]).unwrap();
        assert!(args.get("count", 1u32).unwrap_err().contains("--count"));
        assert_eq!(args.unknown(&["count"]), vec!["colour".to_owned()]);
    }
}
