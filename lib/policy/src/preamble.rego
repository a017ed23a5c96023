# Vouch's policy preamble. Every user policy is evaluated together with
# this module (package `policy`, Rego v0), so that policies written for
# Veraison's OPA back end run unchanged: the names below (AR4SI constants,
# input shortcuts, rule defaults, semver_cmp and `outcome`) are the
# interface those policies are written against.
package policy

# Trust-claim values (draft-ietf-rats-ar4si).
NO_CLAIM := 0
UNEXECTED_EVIDENCE := 1

AFFIRMING := 2
WARNING := 32
CONTRAINDICATED := 96

RECOGNIZED_INSTANCE := 2
UNTRUSTWORTHY_INSTANCE := 96
UNRECOGNIZED_INSTANCE := 97

APPROVED_CONFIG := 2
SAFE_CONFIG := 3
UNSAFE_CONFIG := 32
UNSUPPORTABLE_CONFIG := 96

APPROVED_RT := 2
APPROVED_BOOT := 3
UNSAFE_RT := 32
UNRECOGNIZED_RT := 33
CONTRAINDICATED_RT := 96

APPROVED_FS := 2
UNRECOGNIZED_FS := 32
CONTRAINDICATED_FS := 96

GENUINE_HW := 2
UNSAFE_HW := 32
CONTRAINDICATED_HW := 96
UNRECOGNIZED_HW := 97

ENCRYPTED_RT := 2
ISOLATED_RT := 32
VISIBLE_RT := 96

HW_ENCRYPTED_SECRETS := 2
SW_ENCRYPTED_SECRETS := 32
UNENCRYPTED_SECRETES := 96

TRUSTED_SOURCES := 2
UNTRUSTED_SOURCES := 32
CONTRAINDICATED_SOURCES := 96

# Shortcuts into the input document.
scheme := input.scheme
session := input.session
submod := input.submod
result := input.result
evidence := input.evidence
endorsements := input.endorsements

# What a policy does not set stays as the scheme appraised it (a zero
# trust claim means "no change"); the status is recomputed from the vector.
default status = 0
default instance_identity = 0
default configuration = 0
default executables = 0
default file_system = 0
default hardware = 0
default runtime_opaque = 0
default storage_opaque = 0
default sourced_data = 0
default added_claims = {}

# Compares MAJOR.MINOR.PATCH versions numerically, component by component:
# -1, 0 or 1. Missing components compare as shorter lists do.
semver_cmp(a, b) = r {
	va := [to_number(x) | x := split(a, ".")[_]]
	vb := [to_number(x) | x := split(b, ".")[_]]
	r := __vouch_cmp(va, vb)
}

__vouch_cmp(x, y) = 1 {
	x > y
} else = -1 {
	x < y
} else = 0

outcome := {
	"status": status,
	"trust-vector": {
		"instance-identity": instance_identity,
		"configuration": configuration,
		"executables": executables,
		"file-system": file_system,
		"hardware": hardware,
		"runtime-opaque": runtime_opaque,
		"storage-opaque": storage_opaque,
		"sourced-data": sourced_data,
	},
	"added-claims": added_claims,
}
