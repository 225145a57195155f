//! Pagination: follow `links.next.href` until the server stops sending one.

use futures::stream::{self, Stream, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::Error;
use crate::error::ErrorKind;
use crate::http::HttpClient;
use crate::observe::Tier;

/// A list envelope: `{"data": [...], "links": {"next": {"href": "..."}}}`. Other fields
/// (`meta`, `links.self`, `links.prev`) are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Links to neighbouring pages.
    #[serde(default)]
    pub links: Option<PageLinks>,
}

/// The links of a page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageLinks {
    /// The next page, absent on the last one.
    #[serde(default)]
    pub next: Option<Link>,
}

/// One link.
#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    /// A full URL (or a path, resolved against the server).
    pub href: String,
}

impl<T> Page<T> {
    /// The next page's link, if any.
    pub fn next_href(&self) -> Option<&str> {
        self.links
            .as_ref()
            .and_then(|l| l.next.as_ref())
            .map(|n| n.href.as_str())
            .filter(|h| !h.is_empty())
    }
}

impl HttpClient {
    /// Pages of a list, starting at `first`, each fetched only when the stream is polled.
    ///
    /// `next` links are resolved against the server and must stay on its scheme, host and port:
    /// the client will not send its credentials anywhere else.
    pub fn pages<T>(&self, first: Url, tier: Tier) -> impl Stream<Item = Result<Vec<T>, Error>> + Send + '_
    where
        T: DeserializeOwned + Send + 'static,
    {
        stream::try_unfold(Some(first), move |next| async move {
            let Some(url) = next else { return Ok(None) };
            let page: Page<T> = self.get_json(url.clone(), tier).await?;
            let next = match page.next_href() {
                Some(href) => {
                    let next = self.follow(href)?;
                    // A server echoing the same link would page forever.
                    if next == url { None } else { Some(next) }
                }
                None => None,
            };
            Ok(Some((page.data, next)))
        })
    }

    /// Every item of a list, all pages concatenated.
    pub async fn list_all<T>(&self, first: Url, tier: Tier) -> Result<Vec<T>, Error>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages(first, tier)
            .try_fold(Vec::new(), |mut all, page| async move {
                all.extend(page);
                Ok(all)
            })
            .await
    }

    fn follow(&self, href: &str) -> Result<Url, Error> {
        let url = self
            .base()
            .join(href)
            .map_err(|e| Error::invalid(format!("follow the next link ({e})")))?;
        let base = self.base();
        if url.scheme() != base.scheme()
            || url.host() != base.host()
            || url.port_or_known_default() != base.port_or_known_default()
        {
            let mut shown = url.clone();
            shown.set_query(None);
            return Err(ErrorKind::ForeignLink {
                href: shown.to_string(),
            }
            .into());
        }
        Ok(url)
    }
}
