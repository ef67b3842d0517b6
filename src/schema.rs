// @generated automatically by Diesel CLI (`diesel print-schema`, see diesel.toml).
// Do not edit: change a migration, then regenerate. `tests/api/schema.rs` fails
// when this file and the migrated database disagree.

diesel::table! {
    audit_log (id) {
        id -> Int8,
        actor_id -> Nullable<Int8>,
        action -> Text,
        target_user_id -> Nullable<Int8>,
        details -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    dealership_settings (id) {
        id -> Bool,
        name -> Text,
        address -> Text,
        phone -> Text,
        currency_symbol -> Text,
        currency_place -> Text,
        date_format -> Text,
        time_zone -> Nullable<Text>,
        receipt_footer -> Text,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (token_hash) {
        token_hash -> Bytea,
        user_id -> Int8,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    kept_forms (id) {
        id -> Int8,
        handle_hash -> Bytea,
        user_id -> Int8,
        session_id -> Int8,
        form_page -> Text,
        fields -> Jsonb,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Int8,
        user_id -> Int8,
        code_hash -> Bytea,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sales (id) {
        id -> Int8,
        vehicle_id -> Int8,
        sale_price_cents -> Int8,
        cost_cents -> Int8,
        sold_on -> Date,
        customer_name -> Text,
        customer_email -> Text,
        customer_phone -> Text,
        payment_method -> Text,
        salesperson_id -> Int8,
        notes -> Text,
        created_at -> Timestamptz,
        voided_at -> Nullable<Timestamptz>,
        voided_by -> Nullable<Int8>,
        void_reason -> Nullable<Text>,
    }
}

diesel::table! {
    sales_daily (sold_on, salesperson_id) {
        sold_on -> Date,
        salesperson_id -> Int8,
        units -> Int8,
        revenue_cents -> Int8,
        gross_cents -> Int8,
    }
}

diesel::table! {
    saved_views (id) {
        id -> Int8,
        owner_id -> Int8,
        list -> Text,
        name -> Text,
        query -> Text,
        shared -> Bool,
        created_at -> Timestamptz,
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
    setup_tokens (token_hash) {
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
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
    user_totp (user_id) {
        user_id -> Int8,
        secret -> Bytea,
        created_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        last_used_step -> Int8,
    }
}

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
    vehicle_history (id) {
        id -> Int8,
        vehicle_id -> Int8,
        version -> Int4,
        changed_by -> Nullable<Int8>,
        changed_at -> Timestamptz,
        action -> Text,
        snapshot -> Jsonb,
        changes -> Jsonb,
    }
}

diesel::table! {
    vehicle_imports (id) {
        id -> Int8,
        user_id -> Int8,
        file_name -> Text,
        rows -> Jsonb,
        done -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    vehicle_photos (id) {
        id -> Int8,
        vehicle_id -> Int8,
        position -> Int4,
        sha256 -> Bytea,
        thumb_jpeg -> Bytea,
        thumb_width -> Int4,
        thumb_height -> Int4,
        page_jpeg -> Bytea,
        page_width -> Int4,
        page_height -> Int4,
        full_jpeg -> Bytea,
        full_width -> Int4,
        full_height -> Int4,
        original_bytes -> Int4,
        added_by -> Nullable<Int8>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    vehicle_presence (vehicle_id, session_id) {
        vehicle_id -> Int8,
        session_id -> Int8,
        user_id -> Int8,
        since -> Timestamptz,
        seen_at -> Timestamptz,
    }
}

diesel::table! {
    vehicles (id) {
        id -> Int8,
        vehicle_number -> Text,
        vin -> Nullable<Text>,
        year -> Int4,
        make -> Text,
        model -> Text,
        trim -> Text,
        color -> Text,
        mileage -> Int4,
        condition -> Text,
        cost_cents -> Int8,
        list_price_cents -> Int8,
        status -> Text,
        location -> Text,
        notes -> Text,
        received_on -> Date,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Int8>,
        version -> Int4,
        search_words -> Text,
    }
}

diesel::joinable!(kept_forms -> sessions (session_id));
diesel::joinable!(kept_forms -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(sales -> vehicles (vehicle_id));
diesel::joinable!(sales_daily -> users (salesperson_id));
diesel::joinable!(saved_views -> users (owner_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sign_in_attempts -> users (user_id));
diesel::joinable!(user_totp -> users (user_id));
diesel::joinable!(vehicle_history -> users (changed_by));
diesel::joinable!(vehicle_history -> vehicles (vehicle_id));
diesel::joinable!(vehicle_imports -> users (user_id));
diesel::joinable!(vehicle_photos -> users (added_by));
diesel::joinable!(vehicle_photos -> vehicles (vehicle_id));
diesel::joinable!(vehicle_presence -> sessions (session_id));
diesel::joinable!(vehicle_presence -> users (user_id));
diesel::joinable!(vehicle_presence -> vehicles (vehicle_id));
diesel::joinable!(vehicles -> users (updated_by));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    dealership_settings,
    invitations,
    kept_forms,
    recovery_codes,
    sales,
    sales_daily,
    saved_views,
    sessions,
    setup_tokens,
    sign_in_attempts,
    user_totp,
    users,
    vehicle_history,
    vehicle_imports,
    vehicle_photos,
    vehicle_presence,
    vehicles,
);
