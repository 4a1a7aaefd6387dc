//! A topology as a run uses it: where each request goes in, and where each
//! location fetches from.

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::{Scope, TopologySpec};
use crate::engine::{SimTime, derive_seed, mix64};
use crate::service::TimeDist;
use crate::workload::{Label, Request};

/// The locations and upper tiers of one run.
#[derive(Debug, Clone)]
pub struct Layout {
    pub names: Vec<String>,
    pub upper_names: Vec<String>,
    /// Each location's upper tier (an index into `upper_names`), if any.
    pub parents: Vec<Option<usize>>,
    /// Each location's own client round trip, when it has one.
    pub rtt: Vec<Option<TimeDist>>,
    pub upper_rtt: Option<TimeDist>,
    pub scope: Scope,
    /// Merge interval of a lagged scope.
    pub sync: SimTime,
    /// Cumulative shares: location i takes [cumulative[i-1], cumulative[i]).
    cumulative: Vec<f64>,
    roam: f64,
    spread: u64,
}

impl Layout {
    /// `spec` for traffic whose abusive clients use `spread` locations.
    pub fn of(spec: &TopologySpec, spread: u64) -> Self {
        let n = spec.location_count() as usize;
        let cumulative = spec
            .shares()
            .iter()
            .scan(0.0, |sum, s| {
                *sum += s;
                Some(*sum)
            })
            .collect();
        Layout {
            names: spec.location_names(),
            upper_names: spec.upper_names(),
            parents: spec.parents(),
            rtt: match spec.location.is_empty() {
                true => vec![None; n],
                false => spec.location.iter().map(|l| l.rtt.clone()).collect(),
            },
            upper_rtt: spec.upper_rtt.clone(),
            scope: spec.limit_scope,
            sync: spec.sync.map_or(0, |s| s.0),
            cumulative,
            roam: spec.roam,
            spread,
        }
    }

    /// One location, no upper tier: the pipeline without a topology.
    pub fn single() -> Self {
        Layout {
            names: vec!["edge".into()],
            upper_names: Vec::new(),
            parents: vec![None],
            rtt: vec![None],
            upper_rtt: None,
            scope: Scope::Global,
            sync: 0,
            cumulative: vec![1.0],
            roam: 0.0,
            spread: 1,
        }
    }

    pub fn locations(&self) -> usize {
        self.names.len()
    }

    /// Sites are the locations, then the upper tiers: the site a location
    /// fetches from.
    pub fn parent_site(&self, location: usize) -> Option<usize> {
        self.parents[location].map(|u| self.locations() + u)
    }

    /// The location a share `u` in [0, 1) falls in.
    fn by_share(&self, u: f64) -> usize {
        let i = self.cumulative.partition_point(|&c| c <= u);
        i.min(self.locations() - 1)
    }
}

/// 2^64 / golden ratio: multiplying by it steps frac(c / golden ratio).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A number in [0, 1) from 53 bits of `h`.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Sends each request to its location: a client's home by its id, a roaming client's by the shares per request, an abusive client's
/// in turn over `spread` locations from its home.
pub struct Placer<'a> {
    layout: &'a Layout,
    seed: u64,
    /// Requests each abusive client has sent, for its turn.
    turns: HashMap<u32, u64, FixedState>,
}

impl<'a> Placer<'a> {
    pub fn new(layout: &'a Layout, seed: u64) -> Self {
        Placer {
            layout,
            seed: derive_seed(seed, "roaming"),
            turns: HashMap::default(),
        }
    }

    /// The location of `req`, the `n`th request sent.
    pub fn place(&mut self, req: &Request, n: u64) -> usize {
        let layout = self.layout;
        if layout.locations() == 1 {
            return 0;
        }
        // Client c's home is where frac(c / golden ratio) falls among the
        // shares: a low-discrepancy sequence, so even a few clients split by
        // the shares, and a test can place them by hand.
        let home = layout.by_share(unit((req.client as u64).wrapping_mul(GOLDEN)));
        let client = mix64(self.seed ^ req.client as u64);
        match req.label {
            Label::Abusive if layout.spread > 1 => {
                let turn = self.turns.entry(req.client).or_default();
                let at = (home as u64 + *turn % layout.spread) as usize % layout.locations();
                *turn += 1;
                at
            }
            Label::Legit if unit(mix64(client)) < layout.roam => {
                layout.by_share(unit(mix64(self.seed ^ mix64(n ^ client))))
            }
            _ => home,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{Generated, ShareDist};

    fn spec(count: u64, share: ShareDist) -> TopologySpec {
        toml::from_str::<TopologySpec>("locations = { count = 1 }")
            .map(|mut s| {
                s.locations = Some(Generated { count, share });
                s
            })
            .unwrap()
    }

    #[test]
    fn clients_land_by_the_shares() {
        let layout = Layout::of(&spec(4, ShareDist::Zipf { alpha: 1.0 }), 1);
        let mut placer = Placer::new(&layout, 7);
        let mut seen = [0u64; 4];
        let n = 200_000;
        for c in 0..n {
            let req = Request {
                client: c,
                ..Request::default()
            };
            seen[placer.place(&req, c as u64)] += 1;
        }
        // Zipf(1) over 4: 12/25, 6/25, 4/25, 3/25.
        for (got, want) in seen.iter().zip([0.48, 0.24, 0.16, 0.12]) {
            let share = *got as f64 / n as f64;
            assert!((share - want).abs() < 0.005, "{seen:?}");
        }
    }

    #[test]
    fn roaming_clients_move_by_the_shares_and_the_others_stay() {
        let mut s = spec(4, ShareDist::Equal);
        let req = |client, label| Request {
            client,
            label,
            ..Request::default()
        };
        let places = |s: &TopologySpec, label| {
            let layout = Layout::of(s, 1);
            let mut placer = Placer::new(&layout, 2);
            let mut seen = [0u32; 4];
            for n in 0..4000 {
                seen[placer.place(&req(5, label), n)] += 1;
            }
            seen
        };
        assert_eq!(
            places(&s, Label::Legit).iter().filter(|&&n| n > 0).count(),
            1
        );
        s.roam = 1.0;
        for n in places(&s, Label::Legit) {
            assert!((900..1100).contains(&n), "every location near a quarter");
        }
        // Only legitimate clients roam: an attacker moves by `spread`.
        assert_eq!(
            places(&s, Label::Abusive)
                .iter()
                .filter(|&&n| n > 0)
                .count(),
            1
        );
    }

    #[test]
    fn an_attacker_takes_its_locations_in_turn() {
        let layout = Layout::of(&spec(5, ShareDist::Equal), 3);
        let mut placer = Placer::new(&layout, 1);
        let req = Request {
            client: 9,
            label: Label::Abusive,
            ..Request::default()
        };
        let at: Vec<usize> = (0..6).map(|n| placer.place(&req, n)).collect();
        assert_eq!(&at[..3], &at[3..]);
        let mut distinct = at[..3].to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "{at:?}");
    }
}
