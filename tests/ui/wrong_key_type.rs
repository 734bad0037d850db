#[netabase_store::netabase_definition_module(Def, DefKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel)]
    #[netabase(Def)]
    pub struct User {
        #[primary_key]
        pub id: u64,
        #[secondary_key]
        pub email: String,
    }
}

use schema::*;

fn main() {
    let store = netabase_store::Store::<Def, _>::temp().unwrap();
    let txn = store.read().unwrap();
    let users = txn.open_tree::<User>().unwrap();
    let _ = users.get("not a u64");
    let _ = users.get_by(User::EMAIL, 5u32);
    let _ = users.get_by_secondary_key(UserPrimaryKey(1));
}
