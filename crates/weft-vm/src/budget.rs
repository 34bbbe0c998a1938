//! Budgets across the delegation tree (the ledger): a tree of [`Budget`]
//! nodes, one per budgeted scope (the program's root, a worker, an agent
//! loop, a workflow run or node). A node with its own limit in a dimension
//! *reserves* that limit from its parent's pool when it opens and returns
//! what it did not use when it closes; a node without one draws from the
//! nearest limited ancestor as it goes. Charges are checked and committed
//! with no await in between, so tasks interleaving on one thread can never
//! together take more than a pool holds.
//!
//! A node lives in the [`TaskContext`](crate::context::TaskContext) of the
//! tasks that run under it — per-task state, never a thread-local.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Number of counted dimensions.
pub const DIMS: usize = 4;

/// Ledger units per US dollar (amounts are integers: pico-dollars).
pub const PICO_PER_USD: f64 = 1e12;

/// A counted dimension of a budget (wall time is kept apart: it is a
/// deadline, not a counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Tokens = 0,
    ModelCalls = 1,
    Workers = 2,
    /// In pico-dollars.
    Cost = 3,
}

impl Dim {
    pub const ALL: [Dim; DIMS] = [Dim::Tokens, Dim::ModelCalls, Dim::Workers, Dim::Cost];

    /// The option key naming this dimension.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Tokens => "tokens",
            Dim::ModelCalls => "model_calls",
            Dim::Workers => "workers",
            Dim::Cost => "cost_usd",
        }
    }

    /// `amount` in the dimension's user-facing unit.
    pub fn show(self, amount: u64) -> String {
        match self {
            Dim::Cost => format!("${:.6}", amount as f64 / PICO_PER_USD),
            _ => amount.to_string(),
        }
    }
}

/// Amounts per dimension, in ledger units (indexed by `Dim as usize`).
pub type Amounts = [u64; DIMS];

/// The limits one scope asks for (`budget: {tokens, model_calls, wall_ms,
/// workers, cost_usd}`); `None` = draw from the parent's pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BudgetLimits {
    pub tokens: Option<u64>,
    pub model_calls: Option<u64>,
    pub wall_ms: Option<u64>,
    pub workers: Option<u64>,
    pub cost_usd: Option<f64>,
}

impl BudgetLimits {
    /// The option keys, in order.
    pub const KEYS: [&'static str; 5] = ["tokens", "model_calls", "wall_ms", "workers", "cost_usd"];

    /// No limit at all.
    pub fn is_empty(&self) -> bool {
        *self == BudgetLimits::default()
    }

    /// The counted limits in ledger units.
    pub fn amounts(&self) -> [Option<u64>; DIMS] {
        [
            self.tokens,
            self.model_calls,
            self.workers,
            self.cost_usd.map(usd_to_pico),
        ]
    }

    /// `{tokens, model_calls, wall_ms, workers, cost_usd}` (absent = no limit).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("tokens", self.tokens),
            ("model_calls", self.model_calls),
            ("wall_ms", self.wall_ms),
            ("workers", self.workers),
        ] {
            if let Some(v) = v {
                m.insert(k.to_string(), v.into());
            }
        }
        if let Some(c) = self.cost_usd {
            m.insert("cost_usd".to_string(), c.into());
        }
        serde_json::Value::Object(m)
    }

    /// The inverse of [`to_json`](Self::to_json) (unknown keys ignored:
    /// this reads records the runtime wrote).
    pub fn from_json(v: &serde_json::Value) -> BudgetLimits {
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64());
        BudgetLimits {
            tokens: n("tokens"),
            model_calls: n("model_calls"),
            wall_ms: n("wall_ms"),
            workers: n("workers"),
            cost_usd: v.get("cost_usd").and_then(|x| x.as_f64()),
        }
    }
}

/// Dollars as ledger units (rounded up; negative and NaN are 0).
pub fn usd_to_pico(usd: f64) -> u64 {
    if usd.is_nan() || usd <= 0.0 {
        0
    } else {
        (usd * PICO_PER_USD).ceil().min(u64::MAX as f64) as u64
    }
}

/// What a scope had already spent before this process (a resumed worker
/// keeps its spending).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spent {
    pub amounts: Amounts,
    pub wall_ms: u64,
}

impl Spent {
    /// `{tokens, model_calls, workers, cost_usd, wall_ms}`.
    pub fn to_json(&self) -> serde_json::Value {
        let a = &self.amounts;
        serde_json::json!({
            "tokens": a[0], "model_calls": a[1], "workers": a[2],
            "cost_usd": a[3] as f64 / PICO_PER_USD, "wall_ms": self.wall_ms,
        })
    }

    pub fn from_json(v: &serde_json::Value) -> Spent {
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        let cost = v.get("cost_usd").and_then(|x| x.as_f64()).unwrap_or(0.0);
        Spent {
            amounts: [
                n("tokens"),
                n("model_calls"),
                n("workers"),
                usd_to_pico(cost),
            ],
            wall_ms: n("wall_ms"),
        }
    }
}

/// Why a charge or a reservation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// A counted dimension: what was needed, what was left.
    Amount {
        dim: Dim,
        needed: u64,
        remaining: u64,
    },
    /// The wall-clock allowance is spent (or a child asked for more time
    /// than is left).
    Wall { needed_ms: u64, remaining_ms: u64 },
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exceeded::Amount {
                dim,
                needed,
                remaining,
            } => write!(
                f,
                "{} budget exceeded: needs {}, {} left",
                dim.name(),
                dim.show(*needed),
                dim.show(*remaining)
            ),
            Exceeded::Wall {
                needed_ms: 0,
                remaining_ms: _,
            } => write!(f, "wall_ms budget exceeded: the time allowed is spent"),
            Exceeded::Wall {
                needed_ms,
                remaining_ms,
            } => write!(
                f,
                "wall_ms budget exceeded: needs {needed_ms} ms, {remaining_ms} ms left"
            ),
        }
    }
}

/// One node of the ledger.
pub struct Budget {
    parent: Option<Rc<Budget>>,
    limits: BudgetLimits,
    limit: [Option<u64>; DIMS],
    /// Charged against this node's own limits: its own and its pass-through
    /// descendants' consumption, plus what its limited children hold
    /// reserved. Only meaningful where `limit` is set.
    used: [Cell<u64>; DIMS],
    /// Consumed in this subtree (reporting and snapshots; holds of calls
    /// in flight are not counted until settled).
    spent: [Cell<u64>; DIMS],
    /// What this node holds reserved from its funder (while open).
    reserved: [Cell<u64>; DIMS],
    /// `used` when the current reservation was made.
    base: [Cell<u64>; DIMS],
    /// The nearest deadline of this node and its ancestors.
    deadline: Option<Instant>,
    started: Instant,
    prior_wall_ms: u64,
    closed: Cell<bool>,
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limits", &self.limits)
            .field("spent", &self.spent())
            .finish()
    }
}

impl Budget {
    /// A root node (nothing to reserve from).
    pub fn root(limits: BudgetLimits) -> Rc<Budget> {
        Rc::new(Budget::node(None, limits, Spent::default()))
    }

    fn node(parent: Option<Rc<Budget>>, limits: BudgetLimits, prior: Spent) -> Budget {
        let now = Instant::now();
        let own_deadline = limits
            .wall_ms
            .map(|ms| now + Duration::from_millis(ms.saturating_sub(prior.wall_ms)));
        let parent_deadline = parent.as_ref().and_then(|p| p.deadline);
        let deadline = match (own_deadline, parent_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let limit = limits.amounts();
        Budget {
            parent,
            used: std::array::from_fn(|d| {
                Cell::new(if limit[d].is_some() {
                    prior.amounts[d]
                } else {
                    0
                })
            }),
            spent: std::array::from_fn(|d| Cell::new(prior.amounts[d])),
            reserved: Default::default(),
            base: Default::default(),
            limit,
            limits,
            deadline,
            started: now,
            prior_wall_ms: prior.wall_ms,
            closed: Cell::new(false),
        }
    }

    /// Opens a child scope below `parent` (`None`: no budget above it).
    /// Each limit the child sets is reserved from the parent's pool (what
    /// remains of it after `prior`); `count_worker` also charges one worker
    /// to the parent. Refused as a whole when anything cannot be covered.
    pub fn open_child(
        parent: Option<&Rc<Budget>>,
        limits: BudgetLimits,
        prior: Spent,
        count_worker: bool,
    ) -> Result<Rc<Budget>, Exceeded> {
        if let Some(p) = parent {
            p.check_wall()?;
            if let (Some(ms), Some(left)) = (limits.wall_ms, p.wall_remaining_ms()) {
                let needed = ms.saturating_sub(prior.wall_ms);
                if needed > left {
                    return Err(Exceeded::Wall {
                        needed_ms: needed,
                        remaining_ms: left,
                    });
                }
            }
            if count_worker {
                let mut one = [0; DIMS];
                one[Dim::Workers as usize] = 1;
                p.charge(one)?;
            }
        }
        let child = Rc::new(Budget::node(parent.cloned(), limits, prior));
        if let Err(e) = child.reserve() {
            if let (Some(p), true) = (parent, count_worker) {
                let mut one = [0; DIMS];
                one[Dim::Workers as usize] = 1;
                p.refund(one);
            }
            return Err(e);
        }
        Ok(child)
    }

    /// Reserves what this node's limits leave (limit − used) from the
    /// funders, all or nothing.
    fn reserve(&self) -> Result<(), Exceeded> {
        let Some(parent) = &self.parent else {
            return Ok(());
        };
        let mut want = [0u64; DIMS];
        for d in Dim::ALL {
            let i = d as usize;
            if let Some(l) = self.limit[i] {
                want[i] = l.saturating_sub(self.used[i].get());
            }
        }
        parent.check(want)?;
        for d in Dim::ALL {
            let i = d as usize;
            if self.limit[i].is_none() {
                continue;
            }
            if let Some(pool) = parent.pool(d) {
                pool.add_used(i, want[i] as i64);
            }
            self.reserved[i].set(want[i]);
            self.base[i].set(self.used[i].get());
        }
        self.closed.set(false);
        Ok(())
    }

    /// The nearest node from here up with a limit in `d`.
    fn pool(&self, d: Dim) -> Option<&Budget> {
        let mut cur = Some(self);
        while let Some(n) = cur {
            if n.limit[d as usize].is_some() {
                return Some(n);
            }
            cur = n.parent.as_deref();
        }
        None
    }

    /// Adds `delta` to `used[i]`; a closed node passes it on to its funder
    /// (what a child returns after its parent scope ended goes further up).
    fn add_used(&self, i: usize, delta: i64) {
        let u = self.used[i].get() as i64 + delta;
        self.used[i].set(u.max(0) as u64);
        if self.closed.get() {
            if let Some(pool) = self.parent.as_deref().and_then(|p| p.pool(Dim::ALL[i])) {
                pool.add_used(i, delta);
            }
        }
    }

    fn check_wall(&self) -> Result<(), Exceeded> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Exceeded::Wall {
                needed_ms: 0,
                remaining_ms: 0,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `amounts` fit (and time is left), without charging.
    pub fn check(&self, amounts: Amounts) -> Result<(), Exceeded> {
        self.check_wall()?;
        for d in Dim::ALL {
            let need = amounts[d as usize];
            if need == 0 {
                continue;
            }
            if let Some(pool) = self.pool(d) {
                let left = pool.left(d);
                if need > left {
                    return Err(Exceeded::Amount {
                        dim: d,
                        needed: need,
                        remaining: left,
                    });
                }
            }
        }
        Ok(())
    }

    fn left(&self, d: Dim) -> u64 {
        let i = d as usize;
        self.limit[i].map_or(u64::MAX, |l| l.saturating_sub(self.used[i].get()))
    }

    /// Charges `amounts` to the pools above and records them as spent,
    /// all or nothing.
    pub fn charge(&self, amounts: Amounts) -> Result<(), Exceeded> {
        self.check(amounts)?;
        self.apply(amounts.map(|a| a as i64), amounts.map(|a| a as i64));
        Ok(())
    }

    /// Holds `amounts` in the pools above (all or nothing) for something
    /// in flight; [`settle`](Self::settle) replaces the hold by what it
    /// really used. A hold is not counted as spent until settled.
    pub fn hold(&self, amounts: Amounts) -> Result<(), Exceeded> {
        self.check(amounts)?;
        self.apply(amounts.map(|a| a as i64), [0; DIMS]);
        Ok(())
    }

    /// Replaces a hold by what was really used. May take a pool past its
    /// limit when more was used than held; later charges are then refused.
    pub fn settle(&self, held: Amounts, actual: Amounts) {
        let delta: [i64; DIMS] = std::array::from_fn(|i| actual[i] as i64 - held[i] as i64);
        self.apply(delta, actual.map(|a| a as i64));
    }

    /// Undoes a charge.
    fn refund(&self, amounts: Amounts) {
        self.apply(amounts.map(|a| -(a as i64)), amounts.map(|a| -(a as i64)));
    }

    fn apply(&self, pool_delta: [i64; DIMS], spent_delta: [i64; DIMS]) {
        for d in Dim::ALL {
            let i = d as usize;
            if pool_delta[i] != 0 {
                if let Some(pool) = self.pool(d) {
                    pool.add_used(i, pool_delta[i]);
                }
            }
            if spent_delta[i] != 0 {
                let mut cur = Some(self);
                while let Some(n) = cur {
                    let s = n.spent[i].get() as i64 + spent_delta[i];
                    n.spent[i].set(s.max(0) as u64);
                    cur = n.parent.as_deref();
                }
            }
        }
    }

    /// Ends the scope: what it reserved and did not use returns to its
    /// funders (idempotent).
    pub fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let Some(parent) = &self.parent else {
            return;
        };
        for d in Dim::ALL {
            let i = d as usize;
            if self.limit[i].is_none() {
                continue;
            }
            let consumed = self.used[i].get() as i64 - self.base[i].get() as i64;
            let delta = consumed - self.reserved[i].get() as i64;
            self.reserved[i].set(0);
            if let Some(pool) = parent.pool(d) {
                pool.add_used(i, delta);
            }
        }
    }

    /// Opens a closed scope again (a worker's next cycle): what its limits
    /// leave is reserved again.
    pub fn reopen(&self) -> Result<(), Exceeded> {
        if !self.closed.get() {
            return Ok(());
        }
        self.check_wall()?;
        self.reserve()
    }

    /// Whether the scope was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// The limits this scope asked for.
    pub fn limits(&self) -> &BudgetLimits {
        &self.limits
    }

    /// What is left to this scope per dimension (`None` = unlimited).
    pub fn remaining(&self) -> [Option<u64>; DIMS] {
        Dim::ALL.map(|d| self.pool(d).map(|p| p.left(d)))
    }

    /// Milliseconds left before the nearest deadline (`None` = no deadline).
    pub fn wall_remaining_ms(&self) -> Option<u64> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()).as_millis() as u64)
    }

    /// What this subtree consumed, including before a resume.
    pub fn spent(&self) -> Spent {
        Spent {
            amounts: std::array::from_fn(|i| self.spent[i].get()),
            wall_ms: self.prior_wall_ms + self.started.elapsed().as_millis() as u64,
        }
    }
}

#[cfg(test)]
mod tests;
