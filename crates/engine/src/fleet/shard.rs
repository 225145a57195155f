//! `--shard I/N` and the globs of `--to`: which tenants of a fleet a process takes.

use std::str::FromStr;

/// `--shard I/N`: share `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 0.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "expected I/N with 0 <= I < N, e.g. 0/4 (got {text:?}; a Kubernetes Indexed Job passes \
                 $JOB_COMPLETION_INDEX as I)"
            )
        };
        let (i, n) = text.split_once('/').ok_or_else(usage)?;
        let index: u32 = i.trim().parse().map_err(|_| usage())?;
        let count: u32 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the tenant named `name` is in this share. A hash of the name decides, so a
    /// tenant keeps its share when others join or leave the fleet.
    pub fn holds(self, name: &str) -> bool {
        // FNV-1a: stable across releases and platforms, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in name.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash % u64::from(self.count) == u64::from(self.index)
    }
}

/// `*` any run of characters, `?` one character; everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("cust-*", "cust-1"));
        assert!(glob_match("cust-*", "cust-"));
        assert!(!glob_match("cust-*", "acme"));
        assert!(glob_match("*-eu", "a-eu"));
        assert!(glob_match("c?st*", "cust-9"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "ac"));
        assert!(glob_match("a*b*c", "axxbyyc"));
    }

    #[test]
    fn shards_partition_exactly() {
        let names: Vec<String> = (0..200).map(|i| format!("tenant-{i}")).collect();
        let count = 7;
        for name in &names {
            let holders = (0..count)
                .filter(|&index| Shard { index, count }.holds(name))
                .count();
            assert_eq!(holders, 1, "{name}");
        }
        // Every share gets some of a fleet this size.
        for index in 0..count {
            assert!(names.iter().any(|n| Shard { index, count }.holds(n)));
        }
    }

    #[test]
    fn shard_parsing() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        assert!("5/5".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
