"""Branch-and-bound on sites with the Lagrangian bound for the p-median (p-中位的拉格朗日分支定界).

The classic exact method for small ``p`` (Beasley 1993, "Lagrangean heuristics for location problems"; Galvão
1980): a node fixes some sites open (开) and some closed (关); its bound is the Lagrangian relaxation of the
assignment rows on the sites left,

``L(λ) = Σ_i λ_i + Σ_{j open} ρ_j + (the r most negative ρ_j of the free sites)``,  ``ρ_j = Σ_i min(0, c_ij − λ_i)``,

with ``r`` the sites still to choose. Every λ gives a valid bound; each node runs a short subgradient from its
parent's multipliers (warm start), λ_i capped by the nearest site fixed open (a larger λ_i cannot raise ``L``).
Reduced-cost tests at the best λ then decide free sites for the whole subtree: a site the relaxation leaves closed
whose opening lifts the bound to the incumbent is closed, one it opens whose closing does the same is opened.
Depth first, the relaxation's sites are evaluated as a solution at every node (Lagrangian heuristic). With
integer costs a bound is rounded up. The tree stops when every node is pruned (the incumbent is proved within
``mip_rel_gap``; exactly when no prune used the tolerance) or at the deadline, and the bound returned is the
lowest one of any pruned or unexplored node.

The costs are a dense (demand × site) array over the sites the root's reduced-cost fixing left (``inf`` where a
pair is not allowed), so the caller bounds its size (:data:`MAX_DENSE_ENTRIES`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: largest dense (demand × undecided site) array the branch-and-bound takes (8 bytes each)
MAX_DENSE_ENTRIES = 4_000_000
#: subgradient iterations at the root and at every other node
ROOT_ITERATIONS = 3_000
NODE_ITERATIONS = 15
#: iterations without a better bound before the step halves, at the root and at the other nodes
ROOT_PATIENCE, NODE_PATIENCE = 30, 5

FREE, OPEN, CLOSED = 0, 1, 2


@dataclass(frozen=True)
class BranchResult:
    """Best sites found (indices of the full candidate set), their cost, the proven lower bound, nodes explored
    and whether the tree was exhausted (else the deadline stopped it)."""

    selected: IntArray
    value: float
    bound: float
    nodes: int
    exhausted: bool


@dataclass
class _Tree:
    """What the search shares: the dense costs, per demand point a cost above its every allowed pair (the cap of
    λ_i while no site is open), the incumbent and the pruning level."""

    cost: FloatArray
    beyond: FloatArray
    n_sites: int
    integral: bool
    rel_gap: float
    incumbent: float
    best_open: BoolArray | None
    lowest_pruned: float

    def prune_level(self) -> float:
        return self.incumbent - self.rel_gap * abs(self.incumbent)

    def rounded(self, bound: float) -> float:
        if not self.integral or not math.isfinite(bound):
            return bound
        return float(math.ceil(bound - 1e-9 * max(1.0, abs(bound))))

    def prunes(self, bound: float) -> bool:
        """True when a node (or a fixing) with this bound can be dropped; remembers a drop that used the gap."""
        value = self.rounded(bound)
        if value < self.prune_level():
            return False
        if value < self.incumbent:
            self.lowest_pruned = min(self.lowest_pruned, value)
        return True

    def offer(self, is_open: BoolArray) -> None:
        """Evaluate sites as a solution and keep them if they beat the incumbent."""
        value = float(self.cost[:, is_open].min(axis=1).sum()) if is_open.any() else math.inf
        if value < self.incumbent:
            self.incumbent, self.best_open = value, is_open.copy()


def _chosen(site_value: FloatArray, to_choose: int) -> tuple[IntArray, float, float]:
    """The ``to_choose`` free sites with the most negative ``ρ_j``, the last one taken (``ρ_r``) and the first one
    left out (``ρ_{r+1}``, ``inf`` if none)."""
    order = np.argsort(site_value, kind="stable")
    taken = order[:to_choose]
    last_in = float(site_value[taken[-1]]) if taken.size else -math.inf
    first_out = float(site_value[order[to_choose]]) if order.size > to_choose else math.inf
    return taken, last_in, first_out


def _node(
    tree: _Tree, status: npt.NDArray[np.int8], multipliers: FloatArray, iterations: int, deadline: float
) -> tuple[float, FloatArray, bool]:
    """Subgradient at one node, then reduced-cost fixing of its free sites (``status`` is updated in place).

    With ``λ_i`` capped at the nearest open site, open sites have ``ρ_j = 0`` and a demand point no free site
    serves more cheaply is settled at ``λ_i = cap_i``: only unsettled rows and useful free columns are kept.
    Returns the node's best bound, its multipliers and False when the node is pruned.
    """
    opened = status == OPEN
    to_choose = tree.n_sites - int(opened.sum())
    free = np.flatnonzero(status == FREE)
    cap = tree.cost[:, opened].min(axis=1) if opened.any() else tree.beyond
    cost = tree.cost[:, free]
    cheaper = cost < cap[:, None]
    useful = cheaper.any(axis=0)
    status[free[~useful]] = CLOSED
    free, cost = free[useful], cost[:, useful]
    rows = cheaper[:, useful].any(axis=1)
    cost, row_cap = cost[rows], cap[rows]
    settled = float(cap[~rows].sum())
    lam_all = np.minimum(multipliers, cap)
    lam_all[~rows] = cap[~rows]
    lam = lam_all[rows]
    to_choose = min(to_choose, free.size)
    best, best_lam, scale, stall = -math.inf, lam, 1.0, 0
    buffer = np.empty_like(cost)
    for _ in range(iterations if to_choose > 0 else 1):
        np.subtract(cost, lam[:, None], out=buffer)
        np.minimum(buffer, 0.0, out=buffer)
        site_value = buffer.sum(axis=0)
        taken = np.argpartition(site_value, to_choose - 1)[:to_choose] if to_choose > 0 else free[:0]
        bound = settled + float(lam.sum() + site_value[taken].sum())
        if bound > best + 1e-12 * max(1.0, abs(bound)):
            best, best_lam, stall = bound, lam, 0
        else:
            stall += 1
            if stall >= (NODE_PATIENCE if iterations <= NODE_ITERATIONS else ROOT_PATIENCE):
                scale, stall = scale / 2, 0
        if tree.prunes(best) or scale < 1e-3 or time.perf_counter() > deadline:
            break
        subgradient = 1.0 - (cost[:, taken] < lam[:, None]).sum(axis=1)
        subgradient[(lam >= row_cap) & (subgradient > 0)] = 0.0
        norm = float(subgradient @ subgradient)
        if norm == 0:  # the relaxation's sites serve every demand once: they solve the node
            break
        step = scale * max(tree.incumbent - bound, 1e-9 * max(1.0, abs(tree.incumbent))) / norm
        lam = np.minimum(lam + step * subgradient, row_cap)
    lam_all[rows] = best_lam
    site_value = np.minimum(cost - best_lam[:, None], 0.0).sum(axis=0)
    taken, last_in, first_out = _chosen(site_value, to_choose)
    candidate = opened.copy()
    candidate[free[taken]] = True
    tree.offer(candidate)
    if tree.prunes(best):
        return best, lam_all, False
    in_relaxation = np.zeros(free.size, dtype=bool)
    in_relaxation[taken] = True
    for j in np.flatnonzero(~in_relaxation):
        if tree.prunes(best + site_value[j] - last_in):
            status[free[j]] = CLOSED
    for j in np.flatnonzero(in_relaxation):
        if tree.prunes(best + first_out - site_value[j]):
            status[free[j]] = OPEN
    return best, lam_all, True


def branch_and_bound(
    weighted: sp.coo_array,
    n_sites: int,
    must_open: BoolArray,
    must_close: BoolArray,
    incumbent_sites: IntArray,
    incumbent: float,
    *,
    multipliers: FloatArray | None = None,
    deadline: float,
    mip_rel_gap: float,
) -> BranchResult:
    """Best ``n_sites`` sites (``must_open`` among them, none of ``must_close``) or a proof that none beats
    ``incumbent`` (the cost of ``incumbent_sites``), within ``mip_rel_gap`` or until ``deadline``."""
    n_demand, n_candidates = weighted.shape
    columns = np.flatnonzero(~must_close)
    position = np.full(n_candidates, -1)
    position[columns] = np.arange(columns.size)
    inside = position[weighted.col] >= 0
    cost = np.full((n_demand, columns.size), np.inf)
    cost[weighted.row[inside], position[weighted.col[inside]]] = weighted.data[inside]
    reachable = np.isfinite(cost)
    if not reachable.any(axis=1).all():  # some demand point has no site left: nothing beats the incumbent
        return BranchResult(incumbent_sites, incumbent, incumbent, 0, True)
    tree = _Tree(
        cost=cost,
        beyond=np.where(reachable, cost, -np.inf).max(axis=1) + 1.0,
        n_sites=n_sites,
        integral=bool(np.all(weighted.data == np.round(weighted.data))),
        rel_gap=mip_rel_gap,
        incumbent=incumbent,
        best_open=None,
        lowest_pruned=math.inf,
    )
    root = np.where(must_open[columns], OPEN, FREE).astype(np.int8)
    start = cost.min(axis=1) if multipliers is None else multipliers
    stack: list[tuple[npt.NDArray[np.int8], FloatArray, float]] = [(root, start, -math.inf)]
    nodes, iterations = 0, ROOT_ITERATIONS
    while stack:
        if time.perf_counter() > deadline:
            break
        status, lam, parent_bound = stack.pop()
        nodes += 1
        bound, lam, alive = _node(tree, status, lam, iterations, deadline)
        iterations = NODE_ITERATIONS
        if not alive:
            continue
        opened = status == OPEN
        free = np.flatnonzero(status == FREE)
        to_choose = n_sites - int(opened.sum())
        if to_choose <= 0 or free.size <= to_choose:
            leaf = opened.copy()
            if to_choose > 0:
                leaf[free] = True
            tree.offer(leaf)
            continue
        cap = cost[:, opened].min(axis=1) if opened.any() else np.inf
        site_value = np.minimum(cost[:, free] - np.minimum(lam, cap)[:, None], 0.0).sum(axis=0)
        branch = free[int(np.argmin(site_value))]
        closed_child, open_child = status.copy(), status.copy()
        closed_child[branch], open_child[branch] = CLOSED, OPEN
        bound = max(bound, parent_bound)
        stack.append((closed_child, lam, bound))
        stack.append((open_child, lam, bound))
    bound = min(tree.rounded(min((entry[2] for entry in stack), default=math.inf)), tree.lowest_pruned)
    best = incumbent_sites
    if tree.best_open is not None:
        best = _completed(columns[tree.best_open], n_sites, n_candidates)
    return BranchResult(best, tree.incumbent, min(bound, tree.incumbent), nodes, not stack)


def _completed(chosen: IntArray, n_sites: int, n_candidates: int) -> IntArray:
    """``chosen`` padded to ``n_sites`` with the lowest other indices (an extra open site never costs more)."""
    others = np.setdiff1d(np.arange(n_candidates), chosen)[: max(n_sites - chosen.size, 0)]
    return np.sort(np.concatenate([chosen, others])).astype(np.int64)
