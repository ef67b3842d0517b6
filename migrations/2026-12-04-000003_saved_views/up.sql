-- Saved views (issue #14 §4): a list's filter kept under a name, for its
-- owner alone or shared with everyone. A view is its query string (the
-- list's own filter parameters, normalised by the app, without the '?'),
-- so its link is `/vehicles?<query>` or `/sales?<query>`, as bookmarkable
-- as before.
CREATE TABLE saved_views (
    id         BIGSERIAL   PRIMARY KEY,
    owner_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    list       TEXT        NOT NULL CHECK (list IN ('vehicles', 'sales')),
    name       TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60 AND name = btrim(name)),
    query      TEXT        NOT NULL CHECK (length(query) <= 8000 AND query NOT LIKE '?%'),
    shared     BOOLEAN     NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One name once: among a person's own views of a list, and among the
-- shared views of a list (whoever of the admins saved them). A personal
-- view may share its name with a shared one. Case does not make a name new.
CREATE UNIQUE INDEX saved_views_personal_name ON saved_views (owner_id, list, lower(name)) WHERE NOT shared;
CREATE UNIQUE INDEX saved_views_shared_name ON saved_views (list, lower(name)) WHERE shared;
-- A list page reads `list = $1 AND (shared OR owner_id = $2)`: the shared
-- ones through the index above, one's own through this one.
CREATE INDEX saved_views_list_owner_idx ON saved_views (list, owner_id);

-- Whose is it (see 2026-11-30-000001_roles): everyone signed in reads the
-- shared views and their own, and saves and deletes their own personal
-- ones; only an admin saves or deletes a shared one. Nobody reads another
-- person's personal views, admins included. The app answers 403 first;
-- this holds if it did not.
GRANT SELECT, INSERT (owner_id, list, name, query, shared), DELETE ON saved_views TO pcn_viewer;
GRANT USAGE ON SEQUENCE saved_views_id_seq TO pcn_viewer;
ALTER TABLE saved_views ENABLE ROW LEVEL SECURITY;
CREATE POLICY saved_views_read ON saved_views FOR SELECT TO pcn_viewer
    USING (shared OR owner_id = pcn_user_id());
CREATE POLICY saved_views_save_own ON saved_views FOR INSERT TO pcn_viewer
    WITH CHECK (owner_id = pcn_user_id() AND NOT shared);
CREATE POLICY saved_views_delete_own ON saved_views FOR DELETE TO pcn_viewer
    USING (owner_id = pcn_user_id() AND NOT shared);
CREATE POLICY saved_views_save_shared ON saved_views FOR INSERT TO pcn_admin
    WITH CHECK (owner_id = pcn_user_id() AND shared);
CREATE POLICY saved_views_delete_shared ON saved_views FOR DELETE TO pcn_admin
    USING (shared);
