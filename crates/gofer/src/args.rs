//! The command line (PROTOCOL.md): --sock-fd N --tree NAME=HOSTDIR[:ro]... [--debug-log FILE]
//! [--verbose].

pub struct TreeArg {
    pub name: String,
    pub dir: String,
    pub ro: bool,
}

pub struct Args {
    pub sock_fd: i32,
    pub trees: Vec<TreeArg>,
    pub debug_log: Option<String>,
    pub verbose: bool,
}

pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut sock_fd = None;
    let mut trees: Vec<TreeArg> = Vec::new();
    let mut debug_log = None;
    let mut verbose = false;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let mut val = |what: &str| it.next().cloned().ok_or(format!("{what} needs a value"));
        match a.as_str() {
            "--sock-fd" => {
                let v = val("--sock-fd")?;
                sock_fd = Some(v.parse::<i32>().ok().filter(|&n| n >= 0).ok_or(format!("bad --sock-fd {v}"))?);
            }
            "--tree" => {
                let v = val("--tree")?;
                let (name, rest) = v.split_once('=').ok_or(format!("--tree {v}: want NAME=HOSTDIR[:ro]"))?;
                let (dir, ro) = match rest.strip_suffix(":ro") {
                    Some(d) => (d, true),
                    None => (rest, false),
                };
                if name.is_empty() || name.contains('/') || trees.iter().any(|t| t.name == name) {
                    return Err(format!("--tree {v}: bad or repeated name"));
                }
                if !dir.starts_with('/') {
                    return Err(format!("--tree {v}: HOSTDIR must be absolute"));
                }
                trees.push(TreeArg { name: name.into(), dir: dir.into(), ro });
            }
            "--debug-log" => debug_log = Some(val("--debug-log")?),
            "--verbose" => verbose = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let sock_fd = sock_fd.ok_or("--sock-fd is required")?;
    if trees.is_empty() {
        return Err("at least one --tree is required".into());
    }
    Ok(Args { sock_fd, trees, debug_log, verbose })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }
    #[test]
    fn parses_and_refuses() {
        let a = parse(&v(&["--sock-fd", "3", "--tree", "root=/:ro", "--tree", "v=/tmp/x"])).unwrap();
        assert_eq!((a.sock_fd, a.trees.len(), a.trees[0].ro, a.trees[1].ro), (3, 2, true, false));
        assert_eq!(a.trees[0].dir, "/");
        assert!(parse(&v(&["--tree", "r=/"])).is_err());
        assert!(parse(&v(&["--sock-fd", "3"])).is_err());
        assert!(parse(&v(&["--sock-fd", "3", "--tree", "r=rel"])).is_err());
        assert!(parse(&v(&["--sock-fd", "3", "--tree", "r=/", "--tree", "r=/tmp"])).is_err());
        assert!(parse(&v(&["--sock-fd", "-1", "--tree", "r=/"])).is_err());
    }
}
