package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"lectern/auth"
	"lectern/models"
)

func runCLI(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	var out bytes.Buffer
	err := run(context.Background(), args, &out)
	return out.String(), err
}

func TestUserAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	if u := testStoreURL(t, dir); u != "" {
		t.Setenv("LECTERN_STORE", u) // every command below opens the same PostgreSQL database
	}
	if _, err := runCLI(t, "", "user", "add", "--data", dir, "--email", "ada@school.example"); err == nil {
		t.Fatal("user add without --password-stdin succeeded")
	}
	if _, err := runCLI(t, "short\n", "user", "add", "--data", dir, "--email", "ada@school.example", "--password-stdin"); err == nil {
		t.Fatal("a too-short password was accepted")
	}
	out, err := runCLI(t, "correct horse battery staple\n", "user", "add", "--data", dir, "--email", "Ada@School.example",
		"--password-stdin", "--admin", "--name", "Ada")
	if err != nil || !strings.Contains(out, "ada@school.example") || !strings.Contains(out, "admin") {
		t.Fatalf("user add: %q %v", out, err)
	}
	if _, err := runCLI(t, "correct horse battery staple\n", "user", "add", "--data", dir, "--email", "ada@school.example", "--password-stdin"); err == nil {
		t.Fatal("duplicate email accepted")
	}
	tok, err := runCLI(t, "", "token", "create", "--data", dir, "--email", "ada@school.example", "--name", "obs")
	tok = strings.TrimSpace(tok)
	if err != nil || !strings.HasPrefix(tok, models.APITokenPrefix) || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token create printed %q, %v", tok, err)
	}
	store, err := openTestStore(t, context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, u, err := auth.APIUser(context.Background(), store, tok, nil)
	store.Close()
	if err != nil || u.Email != "ada@school.example" || !u.Admin || u.DisplayName != "Ada" {
		t.Fatalf("the printed token does not authenticate Ada: %+v %v", u, err)
	}
	if out, err := runCLI(t, "", "user", "list", "--data", dir); err != nil || !strings.Contains(out, "ada@school.example") {
		t.Fatalf("user list: %q %v", out, err)
	}
	if _, err := runCLI(t, "", "user", "disable", "--data", dir, "--email", "ada@school.example", "--reason", "left"); err != nil {
		t.Fatal(err)
	}
	store, _ = openTestStore(t, context.Background(), dir)
	defer store.Close()
	if _, _, err := auth.APIUser(context.Background(), store, tok, nil); err == nil {
		t.Fatal("a disabled account's token still works")
	}
	if _, err := runCLI(t, "", "token", "create", "--data", dir, "--email", "ada@school.example"); err == nil {
		t.Fatal("token created for a disabled account")
	}
}
