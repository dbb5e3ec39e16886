package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/supervisor-sdk/supervisor/sdk"
)

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name, problem string
	}{
		{"api", ""},
		{"conn-1_a.b", ""},
		{strings.Repeat("a", sdk.MaxNameLen), ""},
		{"", "is blank"},
		{strings.Repeat("a", sdk.MaxNameLen+1), "is 64 bytes long; the limit is 63"},
		{"a b", `"a b" may contain only letters, digits, '_', '-' and '.'`},
		{"a/b", `"a/b" may contain only letters, digits, '_', '-' and '.'`},
		{"é", `"é" may contain only letters, digits, '_', '-' and '.'`},
	} {
		err := sdk.CheckName(tc.name)
		if tc.problem == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.EqualError(t, err, tc.problem)
	}
}

// A 1 MiB name used to be accepted by New and Add, and then went into
// every path, event, span and metric label of the tree.
func TestLongNamesRejected(t *testing.T) {
	huge := strings.Repeat("n", 1<<20)
	_, err := sdk.New(huge)
	var se *sdk.SpecError
	require.True(t, errors.As(err, &se))
	require.Equal(t, "name", se.Field)
	require.Contains(t, se.Problem, "1048576 bytes long; the limit is 63")

	s := newSup(t, "root")
	err = s.Add(context.Background(), sdk.Spec{Name: huge, Service: sdk.ServiceFunc(func(context.Context) error { return nil })}, "test", "declared by the test")
	require.True(t, errors.As(err, &se))
	require.Equal(t, "Name", se.Field)
	require.Less(t, len(err.Error()), 200, "the error does not quote the whole name")
}
