// Package kridik writes kridik checks in Go. It mirrors the Rust SDK: a check
// is an Info and a Run function; Register them from an init function and build
// with `make` in sdk/go (GOOS=wasip1, -buildmode=c-shared, then
// kridik-go-componentize). It uses only the standard library.
package kridik

import "fmt"

type Severity uint8

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

type Confidence uint8

const (
	Verified Confidence = iota
	Inferred
	Unknown
)

type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
	File                              *string
	Line                              *uint32
}

// Display is `Kind namespace/name`, for messages.
func (r ObjectRef) Display() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

type Object struct {
	Target            ObjectRef
	UID               string
	Labels            [][2]string
	Annotations       [][2]string
	CreationTimestamp *string
	// The whole object as JSON.
	JSON string
}

type Unavailable struct {
	Kind, Reason, Detail string
}

type CheckInfo struct {
	ID, Title, Description string
	DefaultSeverity        Severity
	Category               string
	// Kinds the check reads: `Kind` for the core group, `group/Kind` otherwise.
	Kinds []string
}

type Evidence struct {
	Label  Confidence
	Source *ObjectRef
	Detail string
}

type Remediation struct {
	Summary string
	YAML    *string
}

// Finding is built with the chainable methods below.
type Finding struct {
	CheckID     string
	Severity    Severity
	Confidence  Confidence
	Title       string
	Message     string
	Object      ObjectRef
	Evidence    []Evidence
	Remediation *Remediation
	References  []string
}

func (f *Finding) WithMessage(format string, args ...any) *Finding {
	f.Message = fmt.Sprintf(format, args...)
	return f
}

func (f *Finding) WithConfidence(c Confidence) *Finding { f.Confidence = c; return f }

func (f *Finding) WithEvidence(label Confidence, source *ObjectRef, detail string) *Finding {
	f.Evidence = append(f.Evidence, Evidence{Label: label, Source: source, Detail: detail})
	return f
}

func (f *Finding) WithRemediation(summary string, yaml *string) *Finding {
	f.Remediation = &Remediation{Summary: summary, YAML: yaml}
	return f
}

func (f *Finding) WithReference(url string) *Finding {
	f.References = append(f.References, url)
	return f
}

// Ctx is what a running check can see.
type Ctx struct{ checkID string }

func (c *Ctx) CheckID() string { return c.checkID }

// Objects of a declared kind, or why they are unavailable.
func (c *Ctx) Objects(kind string) ([]Object, *Unavailable) { return importObjects(kind) }

// Observed is VERIFIED for a live scan, INFERRED for files.
func (c *Ctx) Observed() Confidence {
	if importSource() == 0 {
		return Verified
	}
	return Inferred
}

func (c *Ctx) Finding(severity Severity, object ObjectRef, title string) *Finding {
	return &Finding{CheckID: c.checkID, Severity: severity, Confidence: Inferred, Title: title, Object: object}
}

// Parsed returns the objects of a kind, or the UNKNOWN finding to return
// instead of passing or failing when the kind could not be read.
func (c *Ctx) Parsed(kind, what string) ([]Object, *Finding) {
	objects, missing := c.Objects(kind)
	if missing == nil {
		return objects, nil
	}
	ref := ObjectRef{Kind: missing.Kind}
	return nil, c.Finding(Info, ref, what+" could not be assessed").
		WithConfidence(Unknown).
		WithMessage("could not be assessed: %s is unavailable (%s): %s", missing.Kind, reasonName(missing.Reason), missing.Detail).
		WithEvidence(Unknown, nil, missing.Detail)
}

// The Rust SDK prints the reason with Debug, e.g. `Forbidden`.
func reasonName(r string) string {
	switch r {
	case "not-installed":
		return "NotInstalled"
	case "not-declared":
		return "NotDeclared"
	case "":
		return ""
	}
	return string(r[0]-'a'+'A') + r[1:]
}

// Check is one check: its info and its run function.
type Check struct {
	Info func() CheckInfo
	Run  func(*Ctx) ([]*Finding, error)
}

var registered []Check

// Register adds checks to the component; call it from an init function.
func Register(checks ...Check) { registered = append(registered, checks...) }

func dispatch(id string) ([]*Finding, error) {
	for _, c := range registered {
		if c.Info().ID == id {
			return c.Run(&Ctx{checkID: id})
		}
	}
	return nil, fmt.Errorf("no check %s in this component", id)
}
