// luahealth runs Argo CD health checks (health.lua) against their test cases (health_test.yaml
// and testdata/), the way Argo CD runs a check from argocd-cm: gopher-lua (the interpreter Argo
// CD embeds), the object as the global `obj`, only the package, base and table libraries
// (Argo CD skips the others for argocd-cm scripts, so a script that needs `string` fails here
// as it would there), a one-second budget, and the same status codes.
//
//	luahealth DIR...   each DIR holds health.lua and health_test.yaml (resource_customizations layout)
//
// An expected message "*" accepts any non-empty message (the live-object test uses it).
//
// Hand-written because Argo CD's own runner (util/lua, resource_customizations_test.go) is
// internal to its repository and pulls in all of Argo CD; this is the part of it a check needs.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

type testCase struct {
	InputPath    string `json:"inputPath"`
	HealthStatus struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"healthStatus"`
}

// The codes gitops-engine's health package accepts (isValidHealthStatusCode in Argo CD).
var validStatus = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: luahealth DIR... (each with health.lua and health_test.yaml)")
		os.Exit(2)
	}
	failed, passed := 0, 0
	for _, dir := range os.Args[1:] {
		p, f, err := runDir(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", dir, err)
			os.Exit(1)
		}
		passed += p
		failed += f
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}

func runDir(dir string) (passed, failed int, err error) {
	script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
	if err != nil {
		return 0, 0, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		return 0, 0, err
	}
	var spec struct {
		Tests []testCase `json:"tests"`
	}
	if err := yaml.UnmarshalStrict(raw, &spec); err != nil {
		return 0, 0, fmt.Errorf("health_test.yaml: %w", err)
	}
	for _, tc := range spec.Tests {
		status, message, err := runCase(string(script), filepath.Join(dir, tc.InputPath))
		switch {
		case err != nil:
			fmt.Printf("FAIL %s: %v\n", tc.InputPath, err)
			failed++
		case status != tc.HealthStatus.Status || !messageMatches(tc.HealthStatus.Message, message):
			fmt.Printf("FAIL %s:\n  want %s %q\n  got  %s %q\n", tc.InputPath, tc.HealthStatus.Status, tc.HealthStatus.Message, status, message)
			failed++
		default:
			fmt.Printf("ok   %s: %s %q\n", tc.InputPath, status, message)
			passed++
		}
	}
	return passed, failed, nil
}

// An expected message of "*" accepts any non-empty one (live objects name this run's ids).
func messageMatches(want, got string) bool {
	if want == "*" {
		return got != ""
	}
	return want == got
}

func runCase(script, inputPath string) (string, string, error) {
	raw, err := os.ReadFile(inputPath)
	if err != nil {
		return "", "", err
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		return "", "", fmt.Errorf("%s: %w", inputPath, err)
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	status := lua.LVAsString(ret.RawGetString("status"))
	if !validStatus[status] {
		return "", "", fmt.Errorf("Lua returned an invalid health status %q", status)
	}
	return status, lua.LVAsString(ret.RawGetString("message")), nil
}

// toLua converts decoded JSON as Argo CD's decodeValue does (numbers to LNumber, maps to tables).
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}
