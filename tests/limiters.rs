//! Limiter models checked against independent references: governor's GCRA
//! on its fake clock, and the defining properties of the window algorithms.

use std::num::NonZeroU32;
use std::time::Duration;

use edgesim::engine::SECOND;
use edgesim::limiter::{Decision, KeyBy, KeyedLimiter, LimiterSpec, build};
use edgesim::workload::Request;
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};
use proptest::prelude::*;

fn limiter(algorithm: &str, rate: f64, burst: Option<u32>) -> KeyedLimiter {
    let spec = LimiterSpec::new(algorithm, Some(rate), burst, KeyBy::Client).unwrap();
    build(&spec).unwrap()
}

fn request(client: u32, time: u64) -> Request {
    Request {
        client,
        time,
        ..Request::default()
    }
}

/// Random multi-key arrivals: (key, gap before it in ns), gaps scaled to the
/// emission interval so that every regime (idle, at rate, flooding) occurs.
fn arrivals() -> impl Strategy<Value = (u64, u32, Vec<(u32, u64)>)> {
    (1u64..2_000_000_000, 1u32..40).prop_flat_map(|(interval, burst)| {
        let gap = prop_oneof![
            3 => Just(0u64),
            4 => 0..interval,
            2 => 0..interval * 3,
            1 => 0..interval * (burst as u64 + 2),
        ];
        let events = prop::collection::vec((0u32..6, gap), 1..300);
        (Just(interval), Just(burst), events)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// GCRA, token bucket, both leaky buckets decide exactly as governor.
    #[test]
    fn gcra_family_matches_governor((interval, burst, events) in arrivals()) {
        let quota = Quota::with_period(Duration::from_nanos(interval))
            .unwrap()
            .allow_burst(NonZeroU32::new(burst).unwrap());
        let clock = FakeRelativeClock::default();
        let oracle = RateLimiter::hashmap_with_clock(quota, clock.clone());
        let rate = 1e9 / interval as f64;
        let mut ours: Vec<(&str, KeyedLimiter)> = ["gcra", "token-bucket", "leaky-bucket", "leaky-queue"]
            .into_iter()
            .map(|a| (a, limiter(a, rate, Some(burst))))
            .collect();
        let mut now = 0;
        for (i, &(key, gap)) in events.iter().enumerate() {
            clock.advance(Duration::from_nanos(gap));
            now += gap;
            let expected = oracle.check_key(&key).is_ok();
            for (name, l) in &mut ours {
                if i % 7 == 0 {
                    // Evicting idle keys must never change a decision.
                    l.evict_idle(now);
                }
                let got = l.decide(&request(key, now), now);
                prop_assert_eq!(got.admitted(), expected, "{} at event {} (t={}ns, key {})", name, i, now, key);
            }
        }
    }

    /// The exact log never admits more than L in any window of length W.
    #[test]
    fn sliding_log_never_exceeds_the_limit(
        limit in 1u32..20,
        window_ms in 1u64..2000,
        events in prop::collection::vec(0u64..200_000_000, 1..400),
    ) {
        let window = window_ms * 1_000_000;
        let rate = limit as f64 * 1e9 / window as f64;
        let spec = LimiterSpec {
            window: Some(edgesim::units::Duration(window)),
            ..LimiterSpec::new("sliding-window-log", Some(rate), None, KeyBy::Global).unwrap()
        };
        let mut l = build(&spec).unwrap();
        let mut now = 0;
        let mut admitted = Vec::new();
        for gap in events {
            now += gap / 10;
            if l.decide(&request(0, now), now).admitted() {
                admitted.push(now);
            }
        }
        for (i, &t) in admitted.iter().enumerate() {
            let within = admitted[i..].iter().take_while(|&&u| u < t + window).count();
            prop_assert!(within <= limit as usize, "{} admitted in [{}, {}+W)", within, t, t);
        }
    }
}

#[test]
fn fixed_window_admits_twice_the_limit_around_a_boundary() {
    // 10 per second: 10 requests in the last 10ms of one window and 10 in the
    // first 10ms of the next are all admitted: 20 within 20ms.
    let mut fixed = limiter("fixed-window", 10.0, None);
    let mut exact = limiter("sliding-window-log", 10.0, None);
    let times: Vec<u64> = (0..10)
        .map(|i| SECOND - 10_000_000 + i * 1_000_000)
        .chain((0..10).map(|i| SECOND + i * 1_000_000))
        .collect();
    let fixed_admitted = times
        .iter()
        .filter(|&&t| fixed.decide(&request(1, t), t) == Decision::Allow)
        .count();
    let exact_admitted = times
        .iter()
        .filter(|&&t| exact.decide(&request(1, t), t) == Decision::Allow)
        .count();
    assert_eq!(fixed_admitted, 20, "fixed window: 2L within 20ms");
    assert_eq!(exact_admitted, 10, "the exact log holds it to L");
}

#[test]
fn leaky_queue_delays_up_to_burst_minus_one_intervals() {
    // 10/s, burst 3 (nginx burst=2): of 4 simultaneous requests the first
    // passes, the next two wait 100ms and 200ms, the fourth is rejected.
    let mut l = limiter("leaky-queue", 10.0, Some(3));
    let got: Vec<Decision> = (0..4).map(|_| l.decide(&request(1, 0), 0)).collect();
    assert_eq!(
        got,
        [
            Decision::Allow,
            Decision::Delay { by: 100_000_000 },
            Decision::Delay { by: 200_000_000 },
            Decision::Deny {
                retry_after: 100_000_000
            },
        ]
    );
}

#[test]
fn premium_clients_get_the_multiplier() {
    let spec = LimiterSpec {
        premium: Some(2.0),
        ..LimiterSpec::new("token-bucket", Some(1.0), Some(5), KeyBy::Client).unwrap()
    };
    let mut l = build(&spec).unwrap();
    let standard = (0..20)
        .filter(|_| l.decide(&request(1, 0), 0).admitted())
        .count();
    let premium = Request {
        tier: 1,
        ..request(2, 0)
    };
    let gold = (0..20).filter(|_| l.decide(&premium, 0).admitted()).count();
    assert_eq!((standard, gold), (5, 10));
}

/// workshop-adaptive with no rate, burst or window has the workshop's
/// defaults: 100 per 60 s window after 20 burst tokens; premium clients get
/// twice the limit but not twice the burst.
#[test]
fn workshop_adaptive_defaults_are_the_workshops() {
    let spec = LimiterSpec::new("workshop-adaptive", None, None, KeyBy::Client).unwrap();
    let mut l = build(&spec).unwrap();
    let standard: Vec<Decision> = (0..121).map(|_| l.decide(&request(1, 0), 0)).collect();
    assert!(standard[..120].iter().all(|d| d.admitted()));
    // Denied until the window has expired: 1 ns after its last instant.
    assert_eq!(
        standard[120],
        Decision::Deny {
            retry_after: 60 * SECOND + 1
        }
    );
    let premium = Request {
        tier: 1,
        ..request(2, 0)
    };
    let gold = (0..300)
        .filter(|_| l.decide(&premium, 0).admitted())
        .count();
    assert_eq!(gold, 20 + 200);
}

/// One instance holds the counters for every tier: a standard client's
/// denials raise the base limit and the load factor that a premium
/// client's window gets.
#[test]
fn workshop_adaptive_counts_every_tier_together() {
    let spec = |key| LimiterSpec {
        window: Some(edgesim::units::Duration(10 * SECOND)),
        ..LimiterSpec::new(
            "workshop-adaptive(adapt_every=30s)",
            Some(1.0),
            Some(2),
            key,
        )
        .unwrap()
    };
    let mut l = build(&spec(KeyBy::Client)).unwrap();
    // Base 10 per 10 s, 2 burst tokens: 12 of 24 admitted, 12 denied.
    let standard = (0..24)
        .filter(|_| l.decide(&request(1, 0), 0).admitted())
        .count();
    assert_eq!(standard, 12);
    // At 30 s 12/24 = 50% were denied: base 11, load factor min(2 x 0.5, 1)
    // = 1 > 0.8, so a premium window gets floor(11 x 2 x 0.8) = 17 after its
    // 2 burst tokens. (A premium instance of its own would have seen no
    // denial: 2 x 2 burst tokens and a limit of 20.)
    let now = 30 * SECOND;
    let premium = Request {
        tier: 1,
        ..request(2, now)
    };
    let gold = (0..40)
        .filter(|_| l.decide(&premium, now).admitted())
        .count();
    assert_eq!(gold, 2 + 17);

    // Under a global key the one key belongs to no client: a premium
    // request opening the window gets the standard limit.
    let mut l = build(&spec(KeyBy::Global)).unwrap();
    let premium = Request {
        tier: 1,
        ..request(2, 0)
    };
    let admitted = (0..40).filter(|_| l.decide(&premium, 0).admitted()).count();
    assert_eq!(admitted, 2 + 10);
}
