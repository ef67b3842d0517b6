// @generated-style: kept in step with migrations/ by hand (diesel print-schema layout).

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        last_sign_in_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        token_hash -> Bytea,
        user_id -> Int8,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sign_in_attempts (id) {
        id -> Int8,
        email -> Text,
        user_id -> Nullable<Int8>,
        ip -> Text,
        attempted_at -> Timestamptz,
        outcome -> Text,
    }
}

diesel::table! {
    setup_tokens (token_hash) {
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sign_in_attempts -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(users, sessions, sign_in_attempts, setup_tokens);
