//! The features' stores depend on each other one way only, and the shared state on none of them
//! (README: Architecture). Read from the sources, so that a new loop fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

fn src() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
}

/// The features: the folders of app/src.
fn features() -> BTreeSet<String> {
    fs::read_dir(src())
        .expect("app/src")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The other features whose store `text` calls: `crate::x::store` or `use crate::x::{store ...}`.
fn store_calls(text: &str, features: &BTreeSet<String>) -> BTreeSet<String> {
    features
        .iter()
        .filter(|feature| {
            let direct = format!("crate::{feature}::store");
            let grouped = format!("use crate::{feature}::{{");
            text.contains(&direct)
                || text
                    .lines()
                    .filter(|line| line.trim_start().starts_with(&grouped))
                    .any(|line| line.contains("store"))
        })
        .cloned()
        .collect()
}

fn store_graph() -> BTreeMap<String, BTreeSet<String>> {
    let features = features();
    features
        .iter()
        .filter_map(|feature| {
            let text = fs::read_to_string(src().join(feature).join("store.rs")).ok()?;
            let mut calls = store_calls(&text, &features);
            calls.remove(feature);
            Some((feature.clone(), calls))
        })
        .collect()
}

/// A loop in `graph` as the features along it, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_stores_call_each_other_one_way() {
    let graph = store_graph();
    assert!(graph.len() >= 10, "the stores were found: {graph:?}");
    if let Some(cycle) = find_loop(&graph) {
        panic!(
            "the stores call each other in a loop: {}; what combines features belongs in the \
             server function that serves the page",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn a_loop_is_found() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(
        find_loop(&graph).map(|cycle| cycle.join(" -> ")),
        Some("a -> b -> c -> a".to_owned())
    );
    let features = BTreeSet::from(["cards".to_owned(), "reviews".to_owned()]);
    assert_eq!(
        store_calls(
            "use crate::reviews::{store as reviews, Gate};\nlet x = crate::cards::store::cost();",
            &features
        ),
        features
    );
}

#[test]
fn the_shared_state_depends_on_no_feature() {
    let state = fs::read_to_string(src().join("state.rs")).expect("state.rs");
    let used: Vec<_> = features()
        .into_iter()
        .filter(|feature| state.contains(&format!("crate::{feature}")))
        .collect();
    assert!(used.is_empty(), "state.rs uses the features {used:?}");
}
