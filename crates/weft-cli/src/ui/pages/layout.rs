//! The frame every page shares: head (stylesheet and script from
//! `/assets/`), the top bar with the state source, and `<main id="live">`,
//! the region `app.js` replaces when live events arrive.

use maud::{html, Markup, DOCTYPE};

/// What live events refresh a page: `all` (the runs list), `run:ID` or
/// `worker:ID`.
pub struct Live {
    pub scope: String,
    /// The event-log offset the page was rendered at.
    pub offset: u64,
}

pub fn page(title: &str, source: &str, live: &Live, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · weft ui" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body data-live=(live.scope) data-offset=(live.offset) {
                header.top {
                    a.brand href="/" { "weft" span { " ui" } }
                    nav { a href="/" { "Runs" } }
                    span.source title="state directory" { (source) }
                    span #live-status .off title="live updates" { "live" }
                }
                main #live { (body) }
            }
        }
    }
}

/// The body of an error page (a missing run or worker).
pub fn not_found(message: &str) -> Markup {
    html! {
        h1 { "Not found" }
        p.error { (message) }
        p { a href="/" { "Back to the runs" } }
    }
}
