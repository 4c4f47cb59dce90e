//! The draw-a-digit page: its HTML, CSS and JavaScript, compiled into the binary. Nothing on disk
//! is ever served, and the page loads nothing from anywhere but this server (its
//! `Content-Security-Policy` says so to the browser too).

/// A file of the page: its path on the server, content type and content.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub content: &'static str,
}

pub const ASSETS: [Asset; 3] = [
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        content: include_str!("page/index.html"),
    },
    Asset {
        path: "/page.css",
        content_type: "text/css; charset=utf-8",
        content: include_str!("page/page.css"),
    },
    Asset {
        path: "/page.js",
        content_type: "text/javascript; charset=utf-8",
        content: include_str!("page/page.js"),
    },
];

/// Only this server's own files and scripts; images also from `data:` and `blob:` URLs (the image
/// the network saw, a picked file's preview).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'";

/// The asset served at `path`.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src=`, `href=` and CSS `url(` in the page, and every `fetch(` in its script, names a
    /// path on this server or is a `data:` URL: nothing is loaded from a CDN or another host.
    #[test]
    fn the_page_references_nothing_off_server() {
        for asset in &ASSETS {
            let text = asset.content;
            for marker in ["src=\"", "href=\"", "url(", "fetch(\"", "fetch('", "fetch(`"] {
                for (at, _) in text.match_indices(marker) {
                    let target = &text[at + marker.len()..];
                    let target = target.trim_start_matches(['"', '\'']);
                    let here = (target.starts_with('/') && !target.starts_with("//")) || target.starts_with("data:");
                    assert!(
                        here,
                        "{}: {marker}{} does not name a path on this server",
                        asset.path,
                        &target[..target.len().min(40)]
                    );
                }
            }
            for scheme in ["http:", "https:", "//cdn", "@import"] {
                assert!(!text.contains(scheme), "{} mentions {scheme}", asset.path);
            }
        }
        let html = ASSETS[0].content;
        for local in ["/page.css", "/page.js"] {
            assert!(html.contains(local), "the page does not load {local}");
        }
    }

    #[test]
    fn the_page_has_the_elements_the_issue_names() {
        let html = ASSETS[0].content;
        for id in [
            "id=\"pad\"",
            "id=\"prediction\"",
            "id=\"clear\"",
            "id=\"bars\"",
            "id=\"seen\"",
            "id=\"summary\"",
            "type=\"file\"",
        ] {
            assert!(html.contains(id), "the page has no {id}");
        }
        assert!(ASSETS[1].content.contains("image-rendering: pixelated"));
    }
}
