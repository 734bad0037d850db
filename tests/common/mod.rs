//! The schema the integration tests share.
#![allow(dead_code)]

use std::fmt::Write as _;

use netabase_store::netabase_definition_module;

#[netabase_definition_module(BlogDefinition, BlogKeys)]
pub mod blog {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BlogDefinition)]
    pub struct User {
        #[primary_key]
        pub id: u64,
        pub username: String,
        #[secondary_key]
        pub email: String,
        #[secondary_key]
        pub age: u8,
    }

    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BlogDefinition)]
    pub struct Post {
        #[primary_key]
        pub id: u64,
        pub title: String,
        pub body: String,
        #[secondary_key]
        pub author_id: u64,
    }

    /// A model with a unique secondary key.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BlogDefinition)]
    pub struct Account {
        #[primary_key]
        pub handle: String,
        #[secondary_key(unique)]
        pub email: String,
        #[secondary_key]
        pub plan: Option<String>,
    }

    /// Every kind of secondary key: optional, multi-valued, compound; a tuple primary key.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BlogDefinition)]
    #[compound_key(AuthorYear = (author_id, year))]
    pub struct Article {
        #[primary_key]
        pub key: (u64, String),
        pub author_id: u64,
        pub year: u16,
        #[secondary_key]
        pub category: Option<String>,
        #[secondary_key]
        pub tags: Vec<String>,
        #[secondary_key(unique)]
        pub slug: Option<String>,
    }

    /// A model without secondary keys.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BlogDefinition)]
    pub struct Setting {
        #[primary_key]
        pub name: String,
        pub value: Vec<u8>,
    }
}

pub use blog::*;

pub fn user(id: u64, email: &str, age: u8) -> User {
    User {
        id,
        username: format!("user{id}"),
        email: email.to_string(),
        age,
    }
}

pub fn email_key(email: &str) -> UserSecondaryKeys {
    UserSecondaryKeys::Email(UserEmailSecondaryKey(email.to_string()))
}

pub fn age_key(age: u8) -> UserSecondaryKeys {
    UserSecondaryKeys::Age(UserAgeSecondaryKey(age))
}

pub fn article(
    author: u64,
    title: &str,
    year: u16,
    category: Option<&str>,
    tags: &[&str],
) -> Article {
    Article {
        key: (author, title.to_string()),
        author_id: author,
        year,
        category: category.map(str::to_string),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        slug: None,
    }
}

/// The records of the format fixture (`tests/fixtures/format-1.txt`), read by the native
/// fixture test and by the browser test.
pub fn fixture_records() -> (Vec<User>, Vec<Account>, Vec<Article>, Vec<Setting>) {
    let users = vec![user(1, "a@x", 30), user(u64::MAX, "zed@x\0nul", 255)];
    let accounts = vec![
        Account {
            handle: "alice".into(),
            email: "alice@x".into(),
            plan: Some("pro".into()),
        },
        Account {
            handle: "".into(),
            email: "empty@x".into(),
            plan: None,
        },
    ];
    let articles = vec![Article {
        key: (7, "intro".into()),
        author_id: 7,
        year: 2024,
        category: Some("news".into()),
        tags: vec!["rust".into(), "db".into(), "rust".into()],
        slug: Some("intro".into()),
    }];
    let settings = vec![Setting {
        name: "theme".into(),
        value: vec![0, 1, 2, 255],
    }];
    (users, accounts, articles, settings)
}

/// Lower-case hex of `bytes` (the fixture's encoding).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The bytes of lower-case hex text.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
