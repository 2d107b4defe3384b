//! Regions of request paths: the cells of the Venn diagram of a set of path templates, each
//! non-empty cell with a shortest concrete witness path.
//!
//! Every decision the mesh makes about a path (which route, which policy's `paths` and
//! `notPaths`) depends only on which templates the path matches, so two paths in one cell
//! get the same verdict. Paths are sequences of segments and a template accepts a segment
//! by its value alone: a literal accepts exactly itself, `{*}` any non-empty segment, `{**}`
//! (one or more segments) anything. So the segments that matter are the literals the
//! templates name, the empty segment, and one stand-in for every other segment. A
//! breadth-first walk over the product of the templates' automata on that alphabet visits
//! every reachable combination, so every non-empty cell is found, with a shortest witness.
//!
//! Limits: characters that the controller's route regex and Envoy's template classes treat
//! differently (`*`, a `%` not followed by two hex digits, an unescaped `.` or `+` in the
//! controller's regex) do not split cells; the verdict of each cell is computed on its
//! witness by the concrete evaluator, which does treat them exactly.

use super::path::{Seg, Template, is_template_char};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// The most product states explored (a bound, not a timing: far above real specs).
pub const MAX_STATES: usize = 200_000;

/// One non-empty cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// For each template (input order), whether the cell's paths match it.
    pub members: Vec<bool>,
    /// A shortest path in the cell.
    pub witness: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Sym {
    Lit(usize),
    Other,
}

fn accepts(seg: &Seg, sym: Sym, lits: &[String]) -> bool {
    match (seg, sym) {
        (Seg::Many, _) => true,
        (Seg::One, Sym::Other) => true,
        (Seg::One, Sym::Lit(i)) => !lits[i].is_empty() && lits[i].chars().all(is_template_char),
        (Seg::Lit(l), Sym::Lit(i)) => *l == lits[i],
        (Seg::Lit(_), Sym::Other) => false,
    }
}

fn step(t: &Template, set: &BTreeSet<u16>, sym: Sym, lits: &[String]) -> BTreeSet<u16> {
    let mut next = BTreeSet::new();
    for &i in set {
        let i = i as usize;
        if i < t.segs.len() && accepts(&t.segs[i], sym, lits) {
            next.insert((i + 1) as u16);
        }
        if i >= 1 && t.segs[i - 1] == Seg::Many {
            next.insert(i as u16);
        }
    }
    next
}

/// A segment that is none of the literals (and a template character run).
pub fn filler(lits: &[String]) -> String {
    (0..)
        .map(|n| {
            if n == 0 {
                "x".to_string()
            } else {
                format!("x{n}")
            }
        })
        .find(|c| !lits.contains(c))
        .expect("an unused name exists")
}

/// Every non-empty cell of the templates' Venn diagram (paths of at least one segment),
/// ordered by witness length then discovery.
pub fn cells(templates: &[Template]) -> Vec<Cell> {
    let mut lits: Vec<String> = vec![String::new()];
    for t in templates {
        for s in &t.segs {
            if let Seg::Lit(l) = s
                && !lits.contains(l)
            {
                lits.push(l.clone());
            }
        }
    }
    let other = filler(&lits);
    // The stand-in first: witnesses read `/anything/x/one`, not `/anything/anything/one`.
    let mut alphabet: Vec<Sym> = vec![Sym::Other];
    alphabet.extend((0..lits.len()).map(Sym::Lit));
    let start: Vec<BTreeSet<u16>> = templates.iter().map(|_| BTreeSet::from([0])).collect();
    let mut seen: HashMap<Vec<BTreeSet<u16>>, ()> = HashMap::new();
    let mut found: HashMap<Vec<bool>, usize> = HashMap::new();
    let mut out = Vec::new();
    let mut queue: VecDeque<(Vec<BTreeSet<u16>>, Vec<Sym>)> = VecDeque::new();
    queue.push_back((start, Vec::new()));
    while let Some((state, word)) = queue.pop_front() {
        for &sym in &alphabet {
            let next: Vec<BTreeSet<u16>> = templates
                .iter()
                .zip(&state)
                .map(|(t, s)| step(t, s, sym, &lits))
                .collect();
            if seen.contains_key(&next) || seen.len() >= MAX_STATES {
                continue;
            }
            let mut w = word.clone();
            w.push(sym);
            let members: Vec<bool> = templates
                .iter()
                .zip(&next)
                .map(|(t, s)| s.contains(&(t.segs.len() as u16)))
                .collect();
            if !found.contains_key(&members) {
                found.insert(members.clone(), out.len());
                let path: Vec<&str> = w
                    .iter()
                    .map(|s| match s {
                        Sym::Lit(i) => lits[*i].as_str(),
                        Sym::Other => other.as_str(),
                    })
                    .collect();
                out.push(Cell {
                    members,
                    witness: format!("/{}", path.join("/")),
                });
            }
            seen.insert(next.clone(), ());
            queue.push_back((next, w));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(paths: &[&str]) -> Vec<Template> {
        paths.iter().map(|p| Template::parse(p)).collect()
    }

    #[test]
    fn cells_are_complete_and_witnessed() {
        let t = ts(&["/health", "/{*}", "/*"]);
        let c = cells(&t);
        let by: Vec<(Vec<bool>, &str)> = c
            .iter()
            .map(|c| (c.members.clone(), c.witness.as_str()))
            .collect();
        assert!(by.contains(&(vec![false, false, true], "/")));
        assert!(by.contains(&(vec![true, true, true], "/health")));
        assert!(by.contains(&(vec![false, true, true], "/x")));
        assert_eq!(c.len(), 3, "{by:?}");
        for cell in &c {
            for (tpl, m) in t.iter().zip(&cell.members) {
                assert_eq!(tpl.matches(&cell.witness), *m, "{} {:?}", cell.witness, tpl);
            }
        }
    }

    #[test]
    fn mid_path_double_star_cells() {
        let t = ts(&["/anything/{*}/one", "/anything/{**}"]);
        let c = cells(&t);
        let members: BTreeSet<Vec<bool>> = c.iter().map(|c| c.members.clone()).collect();
        assert_eq!(
            members,
            BTreeSet::from([vec![false, false], vec![false, true], vec![true, true]])
        );
        let both = c.iter().find(|c| c.members == [true, true]).unwrap();
        assert_eq!(both.witness, "/anything/x/one");
    }
}
