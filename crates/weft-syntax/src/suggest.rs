//! "Did you mean ...?" suggestions for misspelt names and option keys.

/// The candidate closest to `name`, if it is close enough to be a plausible
/// typo (edit distance at most 1/3 of the length, minimum 1... maximum 3).
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let len = name.chars().count();
    let limit = (len / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        // The distance is at least the difference in length: skip without
        // the quadratic comparison (a megabyte-long name against every
        // candidate took seconds).
        if cand.len().abs_diff(name.len()) > 4 * limit || cand.chars().count().abs_diff(len) > limit
        {
            continue;
        }
        let d = strsim::damerau_levenshtein(name, cand);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && cand < bc)) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_close_names() {
        assert_eq!(
            did_you_mean("prnt", ["print", "println", "len"]),
            Some("print")
        );
        assert_eq!(
            did_you_mean("transcrpt", ["transcript", "keep_last"]),
            Some("transcript")
        );
        assert_eq!(did_you_mean("zzz", ["print", "len"]), None);
    }

    #[test]
    fn a_huge_name_is_compared_quickly() {
        let huge = "a".repeat(1 << 20);
        let cands: Vec<String> = (0..200).map(|i| format!("{}{i}", "a".repeat(i))).collect();
        let start = std::time::Instant::now();
        assert_eq!(did_you_mean(&huge, cands.iter().map(|s| s.as_str())), None);
        assert!(start.elapsed() < std::time::Duration::from_millis(500));
        // Length differences within the limit are still compared.
        assert_eq!(did_you_mean("lenght", ["length"]), Some("length"));
        assert_eq!(did_you_mean("printl", ["println"]), Some("println"));
    }
}
