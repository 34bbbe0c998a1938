//! "Did you mean ...?" suggestions for misspelt names and option keys.

/// The candidate closest to `name`, if it is close enough to be a plausible
/// typo (edit distance at most 1/3 of the length, minimum 1... maximum 3).
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
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
}
