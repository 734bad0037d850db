//! Change feeds as async streams and blocking iterators: a writer thread commits while an
//! async task consumes a `futures::Stream` of changes and a thread consumes a filtered
//! blocking iterator (by secondary key), both in commit order.
//!
//! Run with `cargo run --example subscription_streams`.

#[path = "shared/schema.rs"]
mod schema;

use std::sync::Arc;

use futures_util::StreamExt;
use netabase_store::prelude::*;
use netabase_store::{ChangeKind, Event};
use schema::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(Store::<BlogDefinition, _>::memory()?);

    let stream = store.subscribe::<Post>().into_stream();
    let rust_posts = store
        .subscription::<Post>()
        .secondary_eq::<PostCategorySecondaryKey>(PostCategorySecondaryKey("rust".into()))
        .subscribe();

    // A blocking consumer on its own thread: it ends when the store is dropped.
    let iterating = std::thread::spawn(move || {
        let mut titles = Vec::new();
        for event in &rust_posts {
            match event.expect("valid archive") {
                Event::Change(c) => titles.push((c.kind(), c.title.to_string())),
                Event::Lagged { missed } => panic!("lagged by {missed}"),
            }
        }
        titles
    });

    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || -> Result<(), NetabaseError> {
            let posts = store.open_tree::<Post>();
            for id in 1..=6 {
                let mut p = post(id, 1);
                p.category = Some(if id % 2 == 0 { "rust" } else { "go" }.into());
                posts.put(p)?;
            }
            // Post 2 moves out of "rust": the filtered consumer sees it leave.
            let mut p = post(2, 1);
            p.category = Some("go".into());
            posts.put(p)?;
            Ok(())
        })
    };

    // The async consumer, under a small executor.
    let ids = futures_executor::block_on(
        stream
            .take(7)
            .map(|e| match e.expect("valid archive") {
                Event::Change(c) => c.id.to_native(),
                Event::Lagged { missed } => panic!("lagged by {missed}"),
            })
            .collect::<Vec<_>>(),
    );
    writer.join().expect("writer thread")?;
    println!("stream (commit order): {ids:?}");
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 2]);

    drop(store); // ends the blocking iterator
    let titles = iterating.join().expect("iterator thread");
    println!("category = rust: {titles:?}");
    assert_eq!(
        titles,
        [
            (ChangeKind::Inserted, "Post 2".to_string()),
            (ChangeKind::Inserted, "Post 4".to_string()),
            (ChangeKind::Inserted, "Post 6".to_string()),
            (ChangeKind::Updated, "Post 2".to_string()),
        ]
    );
    Ok(())
}
