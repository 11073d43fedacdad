package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"lectern/api"
	"lectern/auth"
	"lectern/models"
)

// AuthConfig is how `lectern serve` signs people in (issue 5).
type AuthConfig struct {
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRedirectURL  string
	OIDCDomains      string // comma-separated email domains allowed through SSO ("" = any)
	OIDCCreate       bool   // create accounts on first SSO sign-in
	OIDCTrustMFA     bool   // an ID token's amr "mfa"/"otp" stands in for the account's own TOTP
	SSOOnly          bool
	TrustProxy       bool
	StaleDays        int // disable accounts unused this many days (0 = never)
	// AuditRetentionDays: audit events older than this are deleted daily (0 = kept forever).
	AuditRetentionDays int
}

func bindAuthFlags(fs *flag.FlagSet, c *AuthConfig) {
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", c.OIDCIssuer, "OpenID Connect issuer URL (Google, Okta, Keycloak...); empty = no SSO")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", c.OIDCClientID, "OpenID Connect client id")
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", c.OIDCClientSecret, "OpenID Connect client secret")
	fs.StringVar(&c.OIDCRedirectURL, "oidc-redirect-url", c.OIDCRedirectURL, "callback URL registered at the provider: https://HOST/auth/oidc/callback")
	fs.StringVar(&c.OIDCDomains, "oidc-domains", c.OIDCDomains, "comma-separated email domains allowed to sign in with SSO (empty = any verified email)")
	fs.BoolVar(&c.OIDCCreate, "oidc-create-accounts", c.OIDCCreate, "create an account on a first SSO sign-in (else only existing emails are linked)")
	fs.BoolVar(&c.OIDCTrustMFA, "oidc-trust-mfa", c.OIDCTrustMFA, "let the provider's MFA (ID token amr with mfa or otp) stand in for an account's own two-factor; off: accounts with TOTP pass it after SSO too")
	fs.BoolVar(&c.SSOOnly, "sso-only", c.SSOOnly, "only admins may sign in with a password; everyone else uses SSO")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "trust X-Forwarded-For/-Proto from a reverse proxy")
	fs.IntVar(&c.StaleDays, "disable-stale-after", c.StaleDays, "disable accounts unused for this many days (0 = never)")
	fs.IntVar(&c.AuditRetentionDays, "audit-retention-days", c.AuditRetentionDays, "delete audit log events older than this many days (0 = keep forever)")
}

// wireAuth fills the API's account dependencies: the server secret, and the SSO provider
// (discovered now, so a wrong issuer fails at start, not at sign-in).
func wireAuth(ctx context.Context, cfg Config, store *models.Store, deps *api.Deps, log *slog.Logger) error {
	secret, err := serverSecret(ctx, cfg, store)
	if err != nil {
		return err
	}
	c := cfg.Auth
	deps.Secret, deps.SSOOnly, deps.TrustProxy, deps.PublicURL = secret, c.SSOOnly, c.TrustProxy, cfg.PublicURL
	if c.OIDCIssuer != "" {
		o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID,
			ClientSecret: c.OIDCClientSecret, RedirectURL: c.OIDCRedirectURL, AllowedDomains: splitList(c.OIDCDomains),
			SSOOnly: c.SSOOnly, CreateAccounts: c.OIDCCreate, TrustProviderMFA: c.OIDCTrustMFA}, secret)
		if err != nil {
			return err
		}
		deps.OIDC = o
		log.Info("single sign-on on", "issuer", c.OIDCIssuer, "sso_only", c.SSOOnly)
	} else if c.SSOOnly {
		return fmt.Errorf("--sso-only needs --oidc-issuer")
	}
	return nil
}

// startHousekeeping sweeps expired and revoked sign-in sessions hourly and, at start, then
// daily: disables accounts unused staleAfter (when > 0) and deletes audit events older than
// auditRetention (when > 0), so the log cannot grow without bound. stop ends it and waits,
// so the store is never closed under it. Daily too, it deletes the content of webinars older
// than the policy's retention_days (see pruneContent); recordings may be nil.
func startHousekeeping(store *models.Store, staleAfter, auditRetention time.Duration, recordings recordingFiles, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for hour := 0; ; hour++ {
			if _, err := store.DeleteDeadSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Error("sweeping dead sessions", "err", err)
			}
			if staleAfter > 0 && hour%24 == 0 {
				ids, err := auth.DisableStale(ctx, store, staleAfter)
				if err != nil && ctx.Err() == nil {
					log.Error("disabling stale accounts", "err", err)
				} else if len(ids) > 0 {
					log.Info("disabled stale accounts", "count", len(ids))
				}
			}
			if auditRetention > 0 && hour%24 == 0 {
				pruneAudit(ctx, store, auditRetention, log)
			}
			if hour%24 == 0 {
				pruneContent(ctx, store, recordings, time.Now(), log)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// pruneAudit deletes the audit events older than retention.
func pruneAudit(ctx context.Context, store *models.Store, retention time.Duration, log *slog.Logger) {
	n, err := store.PruneAudit(ctx, time.Now().Add(-retention))
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("pruning the audit log", "err", err)
	case n > 0:
		log.Info("pruned the audit log", "deleted", n, "retention_days", int(retention.Hours()/24))
	}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// serverSecret is the key that signs tokens and seals TOTP secrets. On PostgreSQL it is kept
// in the store, so every node of a cluster has the same one (a token signed by one node
// works on another); on SQLite it stays the data directory's file, so an existing install
// keeps its two-factor enrolments and join links.
func serverSecret(ctx context.Context, cfg Config, store *models.Store) ([]byte, error) {
	if models.IsPostgresURL(cfg.Store) {
		return store.LoadOrCreateSecret(ctx)
	}
	return auth.LoadOrCreateSecret(cfg.Data)
}
