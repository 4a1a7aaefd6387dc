//! Many locations: `[topology]` spreads the clients over locations (PoPs),
//! each with its own cache and its own limiter counters, and optionally puts
//! upper-tier caches between them and the origin.
//!
//! It is wired from the service pipeline's stages, not simulated apart: a
//! location is a limiter and a cache, an upper tier is a cache whose misses
//! go on to the origin, and the origin is the service's.
//!
//! - **Clients and locations.** A client sticks to one location: client c
//!   goes where frac(c / golden ratio) falls among the cumulative shares
//!   (a low-discrepancy sequence: clients 0, 1, 2, 3 land at 0, 0.618,
//!   0.236, 0.854); a `roam` share of the legitimate
//!   clients picks a location by the shares for every request instead. An
//!   abusive client sends its requests in turn to the workload's `spread`
//!   locations (its own and the next ones), the attacker who spreads to
//!   stay under per-location limits.
//! - **Cache tiers.** `flat`: every location fetches from the origin.
//!   `upper`: one upper tier for all (Cloudflare's Smart Tiered Cache, a CDN
//!   shield); `regional`: one upper tier per `[[topology.region]]`. Only an
//!   upper tier talks to the origin. Each tier coalesces concurrent misses
//!   when the service's `coalesce` is on.
//! - **Limiter scope.** `location`: every location counts alone, as large
//!   edges do; `global`: one exact counter for all; `lagged`: each location
//!   decides on its own copy of the global state, and the copies are merged
//!   every `sync` (see [`limits`]).
//! - **Hops.** Client <-> location: the location's `rtt`, else the
//!   service's. Location <-> upper tier: `upper_rtt`. Whoever fetches from
//!   the origin: the service's `origin_rtt`.

mod layout;
pub mod limits;

pub use layout::{Layout, Placer};

use serde::{Deserialize, Deserializer};

use crate::experiment::CacheSpec;
use crate::service::TimeDist;
use crate::units::{Duration, checked};

/// `[topology]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// The locations one by one (`[[topology.location]]`) ...
    #[serde(default)]
    pub location: Vec<LocationSpec>,
    /// ... or a generated set.
    pub locations: Option<Generated>,
    /// Upper tiers of `tier = "regional"`, in the order locations are
    /// assigned to them when generated.
    #[serde(default)]
    pub region: Vec<RegionSpec>,
    #[serde(default)]
    pub tier: Tiering,
    /// The cache of each upper tier.
    pub upper: Option<CacheSpec>,
    /// Location <-> upper tier round trip [default: 0].
    pub upper_rtt: Option<TimeDist>,
    /// Share of the legitimate clients that pick a location per request.
    #[serde(default, deserialize_with = "share")]
    pub roam: f64,
    #[serde(default)]
    pub limit_scope: Scope,
    /// How often a lagged scope merges the locations' counts (ignored by the
    /// other scopes, so that one sweep can compare them all).
    pub sync: Option<Duration>,
}

/// `[[topology.location]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationSpec {
    pub name: String,
    /// Its share of the clients, between 0 and 1; the shares sum to 1.
    #[serde(default, deserialize_with = "some_share")]
    pub share: Option<f64>,
    /// The region whose upper tier it fetches from (`tier = "regional"`).
    pub region: Option<String>,
    /// Client <-> location round trip [default: the service's `rtt`].
    pub rtt: Option<TimeDist>,
}

/// `locations = { count = 20, share = { dist = "zipf", alpha = 1.0 } }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    #[serde(deserialize_with = "checked::positive")]
    pub count: u64,
    #[serde(default)]
    pub share: ShareDist,
}

/// How generated locations share the clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum ShareDist {
    /// Every location alike.
    #[default]
    Equal,
    /// Location i (from 1) gets a share proportional to 1 / i^alpha.
    Zipf {
        #[serde(deserialize_with = "checked::non_negative")]
        alpha: f64,
    },
}

/// `[[topology.region]]`: one regional upper tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub name: String,
}

/// Where a location's misses go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tiering {
    /// Straight to the origin.
    #[default]
    Flat,
    /// To one upper tier shared by every location.
    Upper,
    /// To the upper tier of the location's region.
    Regional,
}

/// Which requests a limiter's counters see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each location its own.
    #[default]
    Location,
    /// Every location's, exactly.
    Global,
    /// Every location's, merged every `sync`.
    Lagged,
}

fn some_share<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    share(d).map(Some)
}

fn share<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    checked::share(d, |v| format!("a share is between 0 and 1, found {v}"))
}

/// How far from 1 the shares may sum, for decimals written by hand.
const SHARE_SLACK: f64 = 1e-6;

/// Where in `[topology]` a problem is, for the error's place.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// A field of the table.
    Top(&'static str),
    /// A field of `[[topology.location]]` number i.
    Location(usize, &'static str),
    /// `[[topology.region]]` number i.
    Region(usize),
}

impl TopologySpec {
    /// What the fields mean together: every location has a share and the
    /// shares sum to 1, every region is used, a lagged scope has a sync.
    pub fn check(&self) -> Result<(), (Field, String)> {
        let top = |f, m: String| Err((Field::Top(f), m));
        match (&self.locations, self.location.is_empty()) {
            (None, true) => {
                return top(
                    "locations",
                    "give the locations: [[topology.location]] tables (name, share) or locations = { count = 20 }".into(),
                );
            }
            (Some(_), false) => {
                return top(
                    "locations",
                    "give either [[topology.location]] tables or a generated `locations`, not both"
                        .into(),
                );
            }
            _ => {}
        }
        if !self.location.is_empty() {
            if let Some(i) = self.location.iter().position(|l| l.share.is_none()) {
                return Err((
                    Field::Location(i, "name"),
                    format!(
                        "location {:?} has no share: add share = 0.25, its share of the clients (the shares sum to 1)",
                        self.location[i].name
                    ),
                ));
            }
            let sum: f64 = self.location.iter().filter_map(|l| l.share).sum();
            if (sum - 1.0).abs() > SHARE_SLACK {
                return Err((
                    Field::Location(0, "share"),
                    format!("the locations' shares sum to {sum}, they must sum to 1"),
                ));
            }
            for (i, l) in self.location.iter().enumerate() {
                if self.location[..i].iter().any(|o| o.name == l.name) {
                    return Err((
                        Field::Location(i, "name"),
                        format!("location {:?} is named twice", l.name),
                    ));
                }
            }
        }
        self.check_tiers()?;
        match (self.limit_scope, self.sync) {
            (Scope::Lagged, None) => top(
                "limit_scope",
                "a lagged scope merges the counts every `sync`: add sync = \"250ms\"".into(),
            ),
            (Scope::Lagged, Some(Duration(0))) => top(
                "sync",
                "sync must be longer than zero (a lag of zero is limit_scope = \"global\")".into(),
            ),
            _ => Ok(()),
        }
    }

    fn check_tiers(&self) -> Result<(), (Field, String)> {
        // A flat variant of a sweep over `tier` leaves `upper` unused.
        let missing = match self.tier {
            Tiering::Flat => None,
            _ if self.upper.is_none() => Some(
                "an upper tier needs its cache: add upper = { policy = \"lru\", capacity = \"20%\" }",
            ),
            Tiering::Regional if self.region.is_empty() => Some(
                "a regional tier needs its regions: add [[topology.region]] tables with a name",
            ),
            _ => None,
        };
        if let Some(why) = missing {
            return Err((Field::Top("tier"), why.to_string()));
        }
        if self.tier != Tiering::Regional {
            return Ok(());
        }
        for (i, l) in self.location.iter().enumerate() {
            match &l.region {
                None => {
                    return Err((
                        Field::Location(i, "name"),
                        format!(
                            "location {:?} names no region, and the tier is regional",
                            l.name
                        ),
                    ));
                }
                Some(r) if !self.region.iter().any(|g| &g.name == r) => {
                    let known: Vec<&str> = self.region.iter().map(|g| g.name.as_str()).collect();
                    return Err((
                        Field::Location(i, "region"),
                        format!(
                            "unknown region {r:?}, expected one of: {}",
                            known.join(", ")
                        ),
                    ));
                }
                _ => {}
            }
        }
        let parents = self.parents();
        for (i, r) in self.region.iter().enumerate() {
            if !parents.contains(&Some(i)) {
                return Err((
                    Field::Region(i),
                    format!(
                        "no location uses region {:?}: give it locations or remove it",
                        r.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// How many locations there are.
    pub fn location_count(&self) -> u64 {
        self.locations
            .as_ref()
            .map_or(self.location.len() as u64, |g| g.count)
    }

    /// Each location's upper tier: none when flat, else an index into
    /// [`TopologySpec::upper_names`]. Generated locations take the regions
    /// in turn.
    pub fn parents(&self) -> Vec<Option<usize>> {
        let n = self.location_count() as usize;
        match self.tier {
            Tiering::Flat => vec![None; n],
            Tiering::Upper => vec![Some(0); n],
            Tiering::Regional if self.location.is_empty() => {
                (0..n).map(|i| Some(i % self.region.len().max(1))).collect()
            }
            Tiering::Regional => self
                .location
                .iter()
                .map(|l| {
                    let name = l.region.as_deref();
                    self.region
                        .iter()
                        .position(|r| Some(r.name.as_str()) == name)
                })
                .collect(),
        }
    }

    /// The names of the upper tiers.
    pub fn upper_names(&self) -> Vec<String> {
        match self.tier {
            Tiering::Flat => Vec::new(),
            Tiering::Upper => vec!["upper".into()],
            Tiering::Regional => self.region.iter().map(|r| r.name.clone()).collect(),
        }
    }

    /// The names of the locations: given, or "loc1", "loc2", ...
    pub fn location_names(&self) -> Vec<String> {
        if self.location.is_empty() {
            (1..=self.location_count())
                .map(|i| format!("loc{i}"))
                .collect()
        } else {
            self.location.iter().map(|l| l.name.clone()).collect()
        }
    }

    /// Each location's share of the clients.
    pub fn shares(&self) -> Vec<f64> {
        let Some(g) = &self.locations else {
            return self
                .location
                .iter()
                .map(|l| l.share.unwrap_or(0.0))
                .collect();
        };
        let weights: Vec<f64> = (1..=g.count)
            .map(|i| match g.share {
                ShareDist::Equal => 1.0,
                ShareDist::Zipf { alpha } => (i as f64).powf(-alpha),
            })
            .collect();
        let total: f64 = weights.iter().sum();
        weights.iter().map(|w| w / total).collect()
    }
}
