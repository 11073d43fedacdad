package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"lectern/auth"
	"lectern/models"
)

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// cliActor is the audit log's actor for changes made with the admin CLI.
const cliActor = "cli"

func userCmd(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommand(ctx, "user", map[string]command{
		"add":     userAdd,
		"disable": userDisable,
		"enable":  userEnable,
		"list":    userList,
	}, args, stdout)
}

// readPassword reads one line from stdin: the password never appears in argv or the
// environment, where other users of the machine could read it.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("no password on stdin")
	}
	return pw, nil
}

func userAdd(ctx context.Context, args []string, stdout io.Writer) error {
	o := adminFlags("user add")
	fs, data, asJSON := o.fs, o.data, o.asJSON
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "make the account a site admin")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("user add: --email is required")
	}
	if !*pwStdin {
		return fmt.Errorf("user add: pass the password on stdin with --password-stdin (never as an argument)")
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	return withStore(ctx, *o.store, *data, func(store *models.Store) error {
		u, err := auth.CreateAccount(ctx, store, auth.NewAccount{Email: *email, Name: *name, Password: pw, Admin: *admin}, cliActor, "")
		if errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("user add: an account with email %s already exists", *email)
		}
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(u)
		}
		fmt.Fprintf(stdout, "created %s (%s)%s\n", u.Email, u.ID, map[bool]string{true: " as admin"}[u.Admin])
		return nil
	})
}

func userDisable(ctx context.Context, args []string, stdout io.Writer) error {
	return setUserDisabled(ctx, "user disable", true, args, stdout)
}

func userEnable(ctx context.Context, args []string, stdout io.Writer) error {
	return setUserDisabled(ctx, "user enable", false, args, stdout)
}

func setUserDisabled(ctx context.Context, name string, disabled bool, args []string, stdout io.Writer) error {
	o := adminFlags(name)
	fs, data := o.fs, o.data
	email := fs.String("email", "", "email address (required)")
	reason := fs.String("reason", "disabled by an admin", "why (shown at sign-in)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *o.store, *data, func(store *models.Store) error {
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", name, *email, err)
		}
		if !disabled {
			*reason = ""
		}
		if err := auth.SetDisabled(ctx, store, cliActor, u.ID, disabled, *reason, ""); err != nil {
			return err
		}
		if disabled {
			// Signed-in browsers are refused at their next request anyway; this ends them now.
			if _, err := store.RevokeUserSessions(ctx, u.ID, "", time.Now()); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s: %s\n", u.Email, map[bool]string{true: "disabled", false: "enabled"}[disabled])
		return nil
	})
}

func userList(ctx context.Context, args []string, stdout io.Writer) error {
	o := adminFlags("user list")
	fs, data, asJSON := o.fs, o.data, o.asJSON
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *o.store, *data, func(store *models.Store) error {
		us, err := store.Users(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if us == nil {
				us = []models.User{}
			}
			return json.NewEncoder(stdout).Encode(us)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tADMIN\t2FA\tDISABLED\tLAST SIGN-IN")
		for _, u := range us {
			last := "never"
			if !u.LastLoginAt.IsZero() {
				last = u.LastLoginAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%v\t%s\n", u.ID, u.Email, u.DisplayName, u.Admin, u.TOTPEnabled, u.Disabled, last)
		}
		return tw.Flush()
	})
}

func tokenCmd(ctx context.Context, args []string, stdout io.Writer) error {
	return subcommand(ctx, "token", map[string]command{"create": tokenCreate}, args, stdout)
}

// tokenCreate prints only the token, so scripts can do TOKEN=$(lectern token create ...).
func tokenCreate(ctx context.Context, args []string, stdout io.Writer) error {
	o := adminFlags("token create")
	fs, data := o.fs, o.data
	email := fs.String("email", "", "the account the token acts as (required)")
	name := fs.String("name", "cli", "a name to recognise the token by")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withStore(ctx, *o.store, *data, func(store *models.Store) error {
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("token create: %s: %w", *email, err)
		}
		if u.Disabled {
			return fmt.Errorf("token create: %s is disabled", u.Email)
		}
		_, plain, err := auth.IssueAPIToken(ctx, store, u.ID, *name, "")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, plain)
		return nil
	})
}
