package arc

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tsgate/auth"
)

// Arc's token API (/api/v1/auth/verify and /api/v1/auth/tokens…), over
// the same token store `tsgate token` manages: a token made here works on
// pg wire too, and one rotated here gets a new SCRAM verifier. Only
// registered when authentication is on: Arc then has no such routes, and
// arcli takes the 404 on verify to mean "auth disabled".

// tokenInfo is Arc's TokenInfo, fields in Arc's order.
type tokenInfo struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Permissions []string   `json:"permissions"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	Enabled     bool       `json:"enabled"`
	ExpiresAt   *time.Time `json:"expires_at"`
}

func (s *Server) tokenInfo(t auth.Token) tokenInfo {
	perms := make([]string, len(t.Permissions))
	for i, p := range t.Permissions {
		perms[i] = string(p)
	}
	// Arc's timestamps come from SQLite's CURRENT_TIMESTAMP: seconds.
	info := tokenInfo{ID: t.Seq, Name: t.Name, Description: t.Description, Permissions: perms,
		CreatedAt: t.CreatedAt.UTC().Truncate(time.Second), Enabled: !t.Disabled, ExpiresAt: t.ExpiresAt}
	if used, ok := s.tokens.LastUsed(t.ID); ok {
		info.LastUsedAt = &used
	}
	return info
}

func (s *Server) tokenRoutes(handle func(string, auth.Permission, http.HandlerFunc)) {
	public := auth.Permission("")
	handle("GET /api/v1/auth/verify", public, s.verify)
	handle("GET /api/v1/auth/tokens", auth.Admin, s.listTokens)
	handle("POST /api/v1/auth/tokens", auth.Admin, s.createToken)
	handle("GET /api/v1/auth/tokens/{id}", auth.Admin, s.withToken(s.getToken))
	handle("PATCH /api/v1/auth/tokens/{id}", auth.Admin, s.withToken(s.updateToken))
	handle("DELETE /api/v1/auth/tokens/{id}", auth.Admin, s.withToken(s.deleteToken))
	handle("POST /api/v1/auth/tokens/{id}/rotate", auth.Admin, s.withToken(s.rotateToken))
	handle("POST /api/v1/auth/tokens/{id}/revoke", auth.Admin, s.withToken(s.revokeToken))
	handle("GET /api/v1/auth/tokens/{id}/permissions", auth.Admin, s.withToken(s.tokenPermissions))
	// tsgate caches no verification (the store's index is the file's),
	// so there is nothing to drop; the store rereads the file now.
	handle("POST /api/v1/auth/cache/invalidate", auth.Admin, func(w http.ResponseWriter, r *http.Request) {
		s.tokens.List()
		writeJSON(w, http.StatusOK, map[string]any{"message": "Cache invalidated successfully", "success": true})
	})
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	tok := tokenFrom(r)
	if tok == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"valid": false, "error": "No token provided"})
		return
	}
	t, ok := s.tokens.Peek(tok)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"valid": false, "error": "Invalid or expired token"})
		return
	}
	info := s.tokenInfo(*t)
	// Arc answers verify from its token cache, filled when the token
	// was first validated and before its use was recorded: recorded
	// answers carry no last_used_at here (the token list does).
	info.LastUsedAt = nil
	s.tokens.Touch(t.ID)
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "token_info": info, "permissions": info.Permissions})
}

// fail answers Arc's token-API error body.
func tokenError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, authErrorBody{Error: msg})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list := s.tokens.List()
	out := make([]tokenInfo, len(list))
	for i, t := range list {
		out[i] = s.tokenInfo(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "tokens": out, "count": len(out)})
}

// readBody decodes a JSON request body as Fiber's BodyParser would; an
// empty body decodes to the zero value.
func readJSONBody(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// parsePermissions checks names against Arc's list.
func parsePermissions(names []string) ([]auth.Permission, string) {
	out := make([]auth.Permission, 0, len(names))
	for _, n := range names {
		switch p := auth.Permission(n); p {
		case auth.Read, auth.Write, auth.Delete, auth.Admin:
			out = append(out, p)
		default:
			return nil, "Invalid permission: " + n + ". Valid permissions are: read, write, delete, admin"
		}
	}
	return out, ""
}

// parseExpiresIn reads Arc's expires_in: a Go duration ("24h", "90m") or
// a number of days ("7d").
func parseExpiresIn(s string, now time.Time) (time.Time, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), true
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil {
			return now.Add(time.Duration(days) * 24 * time.Hour), true
		}
	}
	return time.Time{}, false
}

const badExpiresIn = "Invalid expires_in format. Use duration like '24h' or '7d'"

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name        string    `json:"name"`
		Description string    `json:"description"`
		Permissions *[]string `json:"permissions"`
		ExpiresIn   string    `json:"expires_in"`
	}
	if err := readJSONBody(r, &req); err != nil {
		tokenError(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return
	}
	if req.Name == "" {
		tokenError(w, http.StatusBadRequest, "Token name is required")
		return
	}
	// No permissions given: Arc's default, read and write.
	perms := []auth.Permission{auth.Read, auth.Write}
	if req.Permissions != nil {
		var msg string
		if perms, msg = parsePermissions(*req.Permissions); msg != "" {
			tokenError(w, http.StatusBadRequest, msg)
			return
		}
	}
	n := auth.NewToken{Name: req.Name, Description: req.Description, Permissions: perms}
	if req.ExpiresIn != "" {
		exp, ok := parseExpiresIn(req.ExpiresIn, s.opts.now())
		if !ok {
			tokenError(w, http.StatusBadRequest, badExpiresIn)
			return
		}
		n.ExpiresAt = &exp
	}
	secret, _, err := s.tokens.CreateToken(n)
	if err != nil {
		if errors.Is(err, auth.ErrNameTaken) {
			tokenError(w, http.StatusInternalServerError, "token with name '"+req.Name+"' already exists")
			return
		}
		s.log.Error("create token", "err", err)
		tokenError(w, http.StatusInternalServerError, "failed to create token: "+err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"success": true, "token": secret,
		"message": "Token created successfully. Store this token securely - it cannot be retrieved again.",
	})
}

// withToken reads the {id} path value (Arc: an int64) for h.
func (s *Server) withToken(h func(w http.ResponseWriter, r *http.Request, seq int64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			tokenError(w, http.StatusBadRequest, "Invalid token ID")
			return
		}
		h(w, r, seq)
	}
}

// changed answers a change's outcome: Arc's 404 for a missing token, its
// 500 wording otherwise.
func (s *Server) changed(w http.ResponseWriter, err error, failed, done string) {
	switch {
	case errors.Is(err, auth.ErrNoToken):
		tokenError(w, http.StatusNotFound, "Token not found")
	case err != nil:
		s.log.Error("token change", "err", err)
		tokenError(w, http.StatusInternalServerError, failed+err.Error())
	default:
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": done})
	}
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request, seq int64) {
	t, ok := s.tokens.BySeq(seq)
	if !ok {
		tokenError(w, http.StatusNotFound, "Token not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "token": s.tokenInfo(t)})
}

func (s *Server) updateToken(w http.ResponseWriter, r *http.Request, seq int64) {
	var req struct {
		Name        *string   `json:"name"`
		Description *string   `json:"description"`
		Permissions *[]string `json:"permissions"`
		ExpiresIn   *string   `json:"expires_in"`
	}
	if err := readJSONBody(r, &req); err != nil {
		tokenError(w, http.StatusBadRequest, "Invalid request body: "+err.Error())
		return
	}
	u := auth.TokenUpdate{Name: req.Name, Description: req.Description}
	if req.Permissions != nil {
		perms, msg := parsePermissions(*req.Permissions)
		if msg != "" {
			tokenError(w, http.StatusBadRequest, msg)
			return
		}
		u.Permissions = &perms
	}
	if req.ExpiresIn != nil {
		exp, ok := parseExpiresIn(*req.ExpiresIn, s.opts.now())
		if !ok {
			tokenError(w, http.StatusBadRequest, badExpiresIn)
			return
		}
		u.ExpiresAt = &exp
	}
	err := s.tokens.Update(seq, u)
	if errors.Is(err, auth.ErrNameTaken) {
		tokenError(w, http.StatusInternalServerError, "Failed to update token: token with name '"+*req.Name+"' already exists")
		return
	}
	s.changed(w, err, "Failed to update token: ", "Token updated successfully")
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, seq int64) {
	s.changed(w, s.tokens.Delete(seq), "Failed to delete token: ", "Token deleted successfully")
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, seq int64) {
	s.changed(w, s.tokens.Disable(seq), "Failed to revoke token: ", "Token revoked successfully")
}

func (s *Server) rotateToken(w http.ResponseWriter, r *http.Request, seq int64) {
	secret, err := s.tokens.Rotate(seq)
	if err != nil {
		s.changed(w, err, "Failed to rotate token: ", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "new_token": secret,
		"message": "Token rotated successfully. Store this new token securely - it cannot be retrieved again.",
	})
}

// effectivePermission is Arc's EffectivePermission: a token's own
// permissions apply to every database ("*"); tsgate has no RBAC grants.
type effectivePermission struct {
	Database    string   `json:"database"`
	Permissions []string `json:"permissions"`
	Source      string   `json:"source"`
}

func (s *Server) tokenPermissions(w http.ResponseWriter, r *http.Request, seq int64) {
	t, ok := s.tokens.BySeq(seq)
	if !ok {
		tokenError(w, http.StatusNotFound, "Token not found")
		return
	}
	var out []effectivePermission // null without permissions, as Arc's
	if len(t.Permissions) > 0 {
		out = []effectivePermission{{Database: "*", Permissions: s.tokenInfo(t).Permissions, Source: "token"}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "permissions": out, "rbac_enabled": false})
}
