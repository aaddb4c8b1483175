//! CWE names, from the CWE List shipped in `data/cwe.tsv` (4.17): an advisory names the weakness, not only its
//! number, and CSAF requires both.

use std::collections::HashMap;
use std::sync::OnceLock;

const LIST: &str = include_str!("../data/cwe.tsv");

fn table() -> &'static HashMap<u32, &'static str> {
    static TABLE: OnceLock<HashMap<u32, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        LIST.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .filter_map(|(id, name)| Some((id.parse().ok()?, name)))
            .collect()
    })
}

/// The name of a weakness written like `CWE-79` (as the form stores it).
pub fn name(id: &str) -> Option<&'static str> {
    let n: u32 = id.trim().strip_prefix("CWE-")?.parse().ok()?;
    table().get(&n).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_of_well_known_weaknesses() {
        assert_eq!(
            super::name("CWE-79"),
            Some("Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')")
        );
        assert_eq!(super::name("CWE-352"), Some("Cross-Site Request Forgery (CSRF)"));
        assert_eq!(super::name("CWE-99999"), None);
        assert_eq!(super::name("79"), None);
        assert!(super::table().len() > 900);
    }
}
