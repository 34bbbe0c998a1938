//! Ledger tests: reservation, pass-through, correction, refunds, resume.

use super::*;

fn tokens(n: u64) -> BudgetLimits {
    BudgetLimits {
        tokens: Some(n),
        ..Default::default()
    }
}

fn t(n: u64) -> Amounts {
    [n, 0, 0, 0]
}

#[test]
fn a_child_reserves_its_limit_and_returns_the_rest() {
    let root = Budget::root(tokens(100));
    let child = Budget::open_child(Some(&root), tokens(60), Spent::default(), false).unwrap();
    assert_eq!(root.remaining()[0], Some(40));
    child.charge(t(10)).unwrap();
    assert_eq!(child.remaining()[0], Some(50));
    // A second child cannot get more than what is left.
    let err = Budget::open_child(Some(&root), tokens(41), Spent::default(), false).unwrap_err();
    assert_eq!(err.to_string(), "tokens budget exceeded: needs 41, 40 left");
    child.close();
    assert_eq!(root.remaining()[0], Some(90));
    assert_eq!(root.spent().amounts[0], 10);
    child.close();
    assert_eq!(root.remaining()[0], Some(90), "close is idempotent");
}

#[test]
fn unlimited_children_draw_from_the_pool_as_they_go() {
    let root = Budget::root(tokens(30));
    let a =
        Budget::open_child(Some(&root), BudgetLimits::default(), Spent::default(), true).unwrap();
    let b = Budget::open_child(Some(&a), BudgetLimits::default(), Spent::default(), true).unwrap();
    b.charge(t(20)).unwrap();
    assert_eq!(root.remaining()[0], Some(10));
    assert!(a.charge(t(11)).is_err());
    a.charge(t(10)).unwrap();
    assert_eq!(a.spent().amounts[0], 30);
    assert_eq!(b.spent().amounts[0], 20);
    assert_eq!(root.spent().amounts[Dim::Workers as usize], 2);
}

#[test]
fn corrections_release_holds_and_record_the_truth() {
    let root = Budget::root(tokens(100));
    root.hold(t(80)).unwrap();
    assert_eq!(root.spent().amounts[0], 0, "a hold is not spent yet");
    assert!(root.charge(t(30)).is_err());
    root.settle(t(80), t(15));
    assert_eq!(root.remaining()[0], Some(85));
    assert_eq!(root.spent().amounts[0], 15);
    // A reply that used more than was held overdraws; nothing more fits.
    root.hold(t(10)).unwrap();
    root.settle(t(10), t(90));
    assert_eq!(root.remaining()[0], Some(0));
    assert!(root.charge(t(1)).is_err());
}

#[test]
fn siblings_never_together_exceed_the_parent() {
    let root = Budget::root(tokens(100));
    let kids: Vec<_> = (0..20)
        .map(|_| {
            Budget::open_child(
                Some(&root),
                BudgetLimits::default(),
                Spent::default(),
                false,
            )
            .unwrap()
        })
        .collect();
    // Every child holds 30 before any reply comes back.
    let held: Vec<bool> = kids.iter().map(|k| k.hold(t(30)).is_ok()).collect();
    assert_eq!(held.iter().filter(|h| **h).count(), 3);
    for (k, h) in kids.iter().zip(&held) {
        if *h {
            k.settle(t(30), t(25));
        }
    }
    assert_eq!(root.spent().amounts[0], 75);
    assert!(root.spent().amounts[0] <= 100);
}

#[test]
fn workers_are_counted_and_a_refused_child_costs_nothing() {
    let root = Budget::root(BudgetLimits {
        workers: Some(1),
        tokens: Some(10),
        ..Default::default()
    });
    let err = Budget::open_child(Some(&root), tokens(20), Spent::default(), true).unwrap_err();
    assert!(matches!(
        err,
        Exceeded::Amount {
            dim: Dim::Tokens,
            ..
        }
    ));
    assert_eq!(root.remaining()[Dim::Workers as usize], Some(1));
    Budget::open_child(Some(&root), BudgetLimits::default(), Spent::default(), true).unwrap();
    let err = Budget::open_child(Some(&root), BudgetLimits::default(), Spent::default(), true)
        .unwrap_err();
    assert_eq!(err.to_string(), "workers budget exceeded: needs 1, 0 left");
}

#[test]
fn a_resumed_scope_keeps_what_it_spent() {
    let root = Budget::root(tokens(100));
    let prior = Spent {
        amounts: t(35),
        wall_ms: 0,
    };
    let child = Budget::open_child(Some(&root), tokens(50), prior, false).unwrap();
    assert_eq!(child.remaining()[0], Some(15));
    assert_eq!(
        root.remaining()[0],
        Some(85),
        "only what is left is reserved"
    );
    child.charge(t(5)).unwrap();
    child.close();
    assert_eq!(root.remaining()[0], Some(95));
    assert_eq!(child.spent().amounts[0], 40);
}

#[test]
fn reopening_reserves_again() {
    let root = Budget::root(tokens(100));
    let child = Budget::open_child(Some(&root), tokens(50), Spent::default(), false).unwrap();
    child.charge(t(20)).unwrap();
    child.close();
    assert_eq!(root.remaining()[0], Some(80));
    child.reopen().unwrap();
    assert_eq!(root.remaining()[0], Some(50));
    assert_eq!(child.remaining()[0], Some(30));
    child.close();
    assert_eq!(root.remaining()[0], Some(80));
}

#[test]
fn a_child_returning_after_its_parent_closed_returns_further_up() {
    let root = Budget::root(tokens(100));
    let mid = Budget::open_child(Some(&root), tokens(60), Spent::default(), false).unwrap();
    let leaf = Budget::open_child(Some(&mid), tokens(40), Spent::default(), false).unwrap();
    leaf.charge(t(5)).unwrap();
    mid.close();
    assert_eq!(root.remaining()[0], Some(60), "the leaf still holds 40");
    leaf.close();
    assert_eq!(root.remaining()[0], Some(95));
}

#[test]
fn wall_time_is_a_deadline_children_cannot_extend() {
    let root = Budget::root(BudgetLimits {
        wall_ms: Some(10_000),
        ..Default::default()
    });
    let err = Budget::open_child(
        Some(&root),
        BudgetLimits {
            wall_ms: Some(20_000),
            ..Default::default()
        },
        Spent::default(),
        false,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Exceeded::Wall {
            needed_ms: 20_000,
            ..
        }
    ));
    let spent = Budget::root(BudgetLimits {
        wall_ms: Some(0),
        ..Default::default()
    });
    assert_eq!(
        spent.charge(t(1)).unwrap_err().to_string(),
        "wall_ms budget exceeded: the time allowed is spent"
    );
}

#[test]
fn cost_is_counted_in_pico_dollars() {
    let root = Budget::root(BudgetLimits {
        cost_usd: Some(0.01),
        ..Default::default()
    });
    assert_eq!(root.remaining()[3], Some(10_000_000_000));
    let err = root.charge([0, 0, 0, usd_to_pico(0.02)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cost_usd budget exceeded: needs $0.020000, $0.010000 left"
    );
    let s = Spent {
        amounts: [1, 2, 3, usd_to_pico(0.5)],
        wall_ms: 7,
    };
    assert_eq!(Spent::from_json(&s.to_json()), s);
    let l = BudgetLimits {
        tokens: Some(5),
        cost_usd: Some(1.5),
        ..Default::default()
    };
    assert_eq!(BudgetLimits::from_json(&l.to_json()), l);
}
