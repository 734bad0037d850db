//! The quick start: a blog schema on an on-disk redb store.
//!
//! Run it with `cargo run --example quickstart`.

use netabase_store::prelude::*;

/// The blog's models.
#[netabase_definition_module(BlogDefinition, BlogKeys)]
pub mod blog_schema {
    use netabase_store::NetabaseModel;

    /// A user; the email is unique.
    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(BlogDefinition)]
    pub struct User {
        /// The primary key.
        #[primary_key]
        pub id: u64,
        /// Display name.
        pub username: String,
        /// A unique secondary key.
        #[secondary_key(unique)]
        pub email: String,
    }

    /// A post, indexed by its author.
    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(BlogDefinition)]
    pub struct Post {
        /// The primary key.
        #[primary_key]
        pub id: u64,
        /// The title.
        pub title: String,
        /// The body.
        pub content: String,
        /// A secondary key: many posts per author.
        #[secondary_key]
        pub author_id: u64,
    }
}

use blog_schema::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("blog.redb");

    // One line picks the backend; here redb, on disk.
    let store = NetabaseStore::<BlogDefinition, _>::redb(&path)?;
    println!("opened a redb store at {}", path.display());

    // 1. The auto-commit API: every call is its own transaction, values are owned.
    let users = store.open_tree::<User>();
    let alice = User {
        id: 1,
        username: "alice".into(),
        email: "alice@example.com".into(),
    };
    users.put(alice.clone())?;
    let retrieved = users
        .get(UserPrimaryKey(1))?
        .expect("alice was just stored");
    assert_eq!(retrieved, alice);
    println!("get(UserPrimaryKey(1)) -> {retrieved:?}");

    let by_email = users.get_by_secondary_key(UserSecondaryKeys::Email(UserEmailSecondaryKey(
        "alice@example.com".into(),
    )))?;
    println!(
        "get_by_secondary_key(Email(alice@example.com)) -> {} user(s)",
        by_email.len()
    );

    // 2. Transactions: many writes, one atomic commit, indexes maintained alongside.
    let txn = store.write()?;
    {
        let mut users = txn.open_tree::<User>()?;
        let mut posts = txn.open_tree::<Post>()?;
        users.put_many((2..=4).map(|id| User {
            id,
            username: format!("user{id}"),
            email: format!("user{id}@example.com"),
        }))?;
        for id in 1..=6 {
            posts.put(Post {
                id,
                title: format!("Post {id}"),
                content: "...".into(),
                author_id: if id % 2 == 0 { 1 } else { 2 },
            })?;
        }
    }
    txn.commit()?;
    println!("committed 3 users and 6 posts in one write transaction");

    // 3. Zero-copy reads: `Ref` derefs to the archived record inside redb's page.
    {
        let txn = store.read()?;
        let users = txn.open_tree::<User>()?;
        let posts = txn.open_tree::<Post>()?;
        let alice = users.get(UserPrimaryKey(1))?.expect("stored");
        println!(
            "read in place: {} <{}> ({} archived bytes, no copy)",
            alice.username,
            alice.email,
            alice.as_bytes().len()
        );
        let by_alice = PostSecondaryKeys::AuthorId(PostAuthorIdSecondaryKey(1));
        for post in posts.get_by_secondary_key(by_alice)? {
            println!("  alice wrote: {}", post?.title);
        }
        let some: Vec<u64> = users
            .range(UserPrimaryKey(2)..=UserPrimaryKey(3))?
            .map(|u| u.map(|u| u.id.to_native()))
            .collect::<Result<_, _>>()?;
        println!("range(2..=3) over primary keys -> ids {some:?}");
        println!("{} users, {} posts", users.len()?, posts.len()?);
    }

    // 4. Unique secondary keys: a clash is a typed error and writes nothing.
    let clash = User {
        id: 9,
        username: "mallory".into(),
        email: "alice@example.com".into(),
    };
    match store.open_tree::<User>().put(clash) {
        Err(NetabaseError::UniqueViolation { model, key, .. }) => {
            println!("refused a second user with alice's email ({model}.{key} is unique)");
        }
        other => return Err(format!("expected a unique-key error, got {other:?}").into()),
    }

    // 5. Dropping a write transaction rolls it back.
    {
        let txn = store.write()?;
        txn.open_tree::<User>()?.remove(UserPrimaryKey(1))?;
    }
    assert!(store.open_tree::<User>().get(UserPrimaryKey(1))?.is_some());
    println!("a dropped write transaction rolled back its remove");

    // 6. Iterate everything (owned, from the auto-commit API).
    for result in store.open_tree::<User>().iter() {
        let (key, user) = result?;
        println!("  {key:?}: {} - {}", user.username, user.email);
    }
    store.flush()?;
    println!("done");
    Ok(())
}
