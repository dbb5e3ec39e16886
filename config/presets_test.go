package config

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
	"time"

	"github.com/supervisor-sdk/supervisor/sdk"
)

// TestPresetsMatchSDK checks the presets table against the role table of
// sdk/role.go, which sdk does not export: the two must not drift apart.
func TestPresetsMatchSDK(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../sdk/role.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var table *ast.CompositeLit
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Names) == 1 && vs.Names[0].Name == "roles" {
			table, _ = vs.Values[0].(*ast.CompositeLit)
		}
		return table == nil
	})
	if table == nil {
		t.Fatal("no roles table in sdk/role.go")
	}
	roleOf := map[string]sdk.Role{"RoleNone": sdk.RoleNone, "RoleService": sdk.RoleService, "RoleWorker": sdk.RoleWorker, "RoleJob": sdk.RoleJob, "RoleSidecar": sdk.RoleSidecar}
	restartOf := map[string]sdk.RestartType{"Permanent": sdk.Permanent, "Transient": sdk.Transient, "Temporary": sdk.Temporary}
	seen := 0
	for _, e := range table.Elts {
		kv := e.(*ast.KeyValueExpr)
		role, ok := roleOf[kv.Key.(*ast.Ident).Name]
		if !ok {
			t.Fatalf("unknown role %s in sdk/role.go", kv.Key.(*ast.Ident).Name)
		}
		vals := kv.Value.(*ast.CompositeLit).Elts
		var got preset
		got.restart = restartOf[vals[0].(*ast.Ident).Name]
		for _, f := range vals[1].(*ast.CompositeLit).Elts {
			kv := f.(*ast.KeyValueExpr)
			switch name := kv.Key.(*ast.Ident).Name; name {
			case "Initial":
				got.backoff.Initial = evalDuration(t, kv.Value)
			case "Max":
				got.backoff.Max = evalDuration(t, kv.Value)
			case "ResetAfter":
				got.backoff.ResetAfter = evalDuration(t, kv.Value)
			case "Multiplier":
				v, err := strconv.ParseFloat(kv.Value.(*ast.BasicLit).Value, 64)
				if err != nil {
					t.Fatal(err)
				}
				got.backoff.Multiplier = v
			case "Jitter":
				j := map[string]sdk.Jitter{"JitterNone": sdk.JitterNone, "JitterFull": sdk.JitterFull, "JitterEqual": sdk.JitterEqual, "JitterDecorrelated": sdk.JitterDecorrelated}
				got.backoff.Jitter = j[kv.Value.(*ast.Ident).Name]
			default:
				t.Fatalf("sdk/role.go: Backoff field %s is new: extend presets", name)
			}
		}
		got.stopTimeout = evalDuration(t, vals[2])
		if want := presets[role]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("role %s: sdk has %+v, presets has %+v", role, got, want)
		}
		seen++
	}
	if seen != len(presets) {
		t.Errorf("sdk has %d roles, presets %d", seen, len(presets))
	}
}

// evalDuration evaluates a duration expression such as 50 * time.Millisecond.
func evalDuration(t *testing.T, e ast.Expr) time.Duration {
	t.Helper()
	switch e := e.(type) {
	case *ast.BasicLit:
		v, err := strconv.ParseInt(e.Value, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		return time.Duration(v)
	case *ast.SelectorExpr:
		units := map[string]time.Duration{"Nanosecond": time.Nanosecond, "Microsecond": time.Microsecond, "Millisecond": time.Millisecond, "Second": time.Second, "Minute": time.Minute, "Hour": time.Hour}
		if u, ok := units[e.Sel.Name]; ok {
			return u
		}
	case *ast.BinaryExpr:
		if e.Op == token.MUL {
			return evalDuration(t, e.X) * evalDuration(t, e.Y)
		}
	case *ast.ParenExpr:
		return evalDuration(t, e.X)
	}
	t.Fatalf("cannot evaluate %T in sdk/role.go", e)
	return 0
}
