//! The README's browser example: a blog in IndexedDB, run in headless Chromium by
//! `scripts/browser_tests.sh` (as a wasm-bindgen test, so it asserts what it shows).

/// Nothing runs on native; in the browser the example is the test below.
fn main() {}

#[cfg(target_arch = "wasm32")]
mod browser {
    use netabase_store::IndexedDBStore;
    use netabase_store::prelude::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// The blog's models.
    #[netabase_definition_module(BlogDefinition, BlogKeys)]
    pub mod blog {
        use netabase_store::NetabaseModel;

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(BlogDefinition)]
        /// A user.
        pub struct User {
            /// The id.
            #[primary_key]
            pub id: u64,
            /// The display name.
            pub username: String,
            /// The email, unique.
            #[secondary_key(unique)]
            pub email: String,
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(BlogDefinition)]
        /// A post.
        pub struct Post {
            /// The id.
            #[primary_key]
            pub id: u64,
            /// The title.
            pub title: String,
            /// The author's user id.
            #[secondary_key]
            pub author_id: u64,
        }
    }
    use blog::*;

    #[wasm_bindgen_test]
    async fn blog_in_the_browser() -> Result<(), NetabaseError> {
        let name = format!("browser-blog-{}", js_sys::Date::now() as u64);
        // Opens (or creates) the database, with an object store per table of the definition.
        let store = IndexedDBStore::<BlogDefinition>::new(&name).await?;

        // One write transaction: the user and their posts commit together, or not at all.
        let txn = store.write().await?;
        {
            let mut users = txn.open_tree::<User>().await?;
            users
                .put(User {
                    id: 1,
                    username: "alice".into(),
                    email: "alice@example.com".into(),
                })
                .await?;
            let mut posts = txn.open_tree::<Post>().await?;
            posts
                .put(Post {
                    id: 10,
                    title: "Hello".into(),
                    author_id: 1,
                })
                .await?;
            posts
                .put(Post {
                    id: 11,
                    title: "Again".into(),
                    author_id: 1,
                })
                .await?;
        }
        txn.commit().await?;

        // Read in a read transaction: the guard derefs to the archived record.
        let txn = store.read().await?;
        let users = txn.open_tree::<User>().await?;
        let alice = users.get_by(User::EMAIL, "alice@example.com").await?;
        assert_eq!(alice[0].username, "alice");
        let posts = txn.open_tree::<Post>().await?;
        let titles: Vec<String> = posts
            .get_by(Post::AUTHOR_ID, 1)
            .await?
            .iter()
            .map(|p| p.title.as_str().to_owned())
            .collect();
        assert_eq!(titles, ["Hello", "Again"]);

        // The auto-commit tree: one call, one transaction, owned values.
        let posts = store.open_tree::<Post>();
        assert_eq!(
            posts.remove(PostPrimaryKey(11)).await?.map(|p| p.title),
            Some("Again".into())
        );
        assert_eq!(posts.len().await?, 1);
        Ok(())
    }
}
