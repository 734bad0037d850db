//! The blog schema the examples share.
#![allow(dead_code)]

use netabase_store::netabase_definition_module;

#[netabase_definition_module(BlogDefinition, BlogKeys)]
pub mod blog {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(BlogDefinition)]
    pub struct User {
        #[primary_key]
        pub id: u64,
        pub username: String,
        #[secondary_key(unique)]
        pub email: String,
    }

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(BlogDefinition)]
    #[compound_key(AuthorYear = (author_id, year))]
    pub struct Post {
        #[primary_key]
        pub id: u64,
        pub title: String,
        pub author_id: u64,
        pub year: u16,
        #[secondary_key]
        pub tags: Vec<String>,
        #[secondary_key]
        pub category: Option<String>,
    }
}

pub use blog::*;

pub fn user(id: u64) -> User {
    User {
        id,
        username: format!("user{id}"),
        email: format!("user{id}@example.com"),
    }
}

pub fn post(id: u64, author_id: u64) -> Post {
    Post {
        id,
        title: format!("Post {id}"),
        author_id,
        year: 2020 + (id % 5) as u16,
        tags: if id.is_multiple_of(2) {
            vec!["rust".into(), "db".into()]
        } else {
            vec!["db".into()]
        },
        category: id.is_multiple_of(3).then(|| "news".to_string()),
    }
}
