DROP FUNCTION pcn_accept_invitation(bytea, text);
DROP TABLE invitations;
