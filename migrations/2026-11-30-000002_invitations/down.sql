DROP FUNCTION pcn_accept_invitation(text, text);
DROP FUNCTION pcn_open_invitation(text);
DROP TABLE invitations;
