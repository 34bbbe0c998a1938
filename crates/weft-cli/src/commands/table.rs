//! Plain-text tables for the `list` commands: a header row and columns
//! padded to their widest cell (counted in characters); the last column is
//! not padded, so lines carry no trailing spaces.

/// Renders `header` and `rows` as aligned lines joined by newlines.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            if i + 1 < widths.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.trim_end().to_string()
    };
    let mut lines = vec![line(&mut header.iter().copied())];
    for row in rows {
        lines.push(line(&mut row.iter().map(String::as_str)));
    }
    lines.join("\n")
}

/// `text` on one line, cut to `max` characters with `...`.
pub fn cut(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    if one_line.chars().count() > max {
        one_line
            .chars()
            .take(max.saturating_sub(3))
            .collect::<String>()
            + "..."
    } else {
        one_line
    }
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM:SS` (UTC), or the text as it is
/// when it does not parse.
pub fn short_time(text: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_to_the_widest_cell() {
        let rows = vec![
            vec![
                "w_1".to_string(),
                "completed".to_string(),
                "a task".to_string(),
            ],
            vec!["w_22".to_string(), "failed".to_string(), "é".to_string()],
        ];
        assert_eq!(
            render(&["ID", "STATUS", "TASK"], &rows),
            "ID    STATUS     TASK\nw_1   completed  a task\nw_22  failed     é"
        );
    }

    #[test]
    fn long_text_is_cut_to_one_line() {
        assert_eq!(cut("two\nlines", 20), "two lines");
        assert_eq!(cut("abcdefghij", 8), "abcde...");
    }

    #[test]
    fn times_are_shown_to_the_second_in_utc() {
        assert_eq!(
            short_time("2026-12-03T15:05:33.296231647+01:00"),
            "2026-12-03 14:05:33"
        );
        assert_eq!(short_time("-"), "-");
    }
}
