//! Descriptors written after Backstage's own examples (packages/catalog-model/examples in
//! github.com/backstage/backstage, Apache-2.0, © The Backstage Authors), trimmed.

use super::*;

const GROUPS: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
  description: Team A
spec:
  type: team
  profile:
    email: team-a@example.com
  parent: backstage
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: breanna.davison
spec:
  profile:
    email: breanna-davison@example.com
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: guest
  namespace: development
spec:
  profile:
    displayName: Guest User
    email: guest@example.com
  memberOf: [group:default/team-a]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: backstage
spec:
  type: organization
  children: [team-a]
  members: [guest]
"#;

const COMPONENTS: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  annotations:
    github.com/project-slug: example/artist-lookup
  name: artist-lookup
  description: Artist Lookup
spec:
  type: service
  lifecycle: experimental
  owner: Team-A
  system: artist-engagement-portal
  dependsOn: ['resource:artists-db']
  providesApis: [artist-api]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: different-namespace
  namespace: alternative
spec:
  type: service
  lifecycle: experimental
  owner: default/team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invalid component
spec:
  type: service
  lifecycle: production
  owner: user:guest
  system: audio-playback
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-owner
spec:
  type: website
  lifecycle: production
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: artist-engagement-portal
spec:
  owner: team-a
"#;

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    let (e, i) = parse(GROUPS, "org.yaml", None);
    c.add(e, i);
    let (e, i) = parse(COMPONENTS, "catalog-info.yaml", Some("example/artists"));
    c.add(e, i);
    c
}

#[test]
fn references_resolve_by_backstages_rules() {
    let c = catalog();
    let lookup = c
        .get(&Ref::parse("component:artist-lookup", None, "default").unwrap())
        .unwrap();
    assert_eq!(
        lookup.owner.as_ref().unwrap().to_string(),
        "group:default/team-a"
    );
    assert_eq!(
        lookup.system.as_ref().unwrap().to_string(),
        "system:default/artist-engagement-portal"
    );
    assert_eq!(
        lookup.depends_on[0].to_string(),
        "resource:default/artists-db"
    );
    assert_eq!(
        lookup.provides_apis[0].to_string(),
        "api:default/artist-api"
    );
    assert_eq!(lookup.repository.as_deref(), Some("example/artists"));
    // A namespace of its own; the owner's namespace given explicitly.
    let other = c
        .get(&Ref::parse("component:alternative/different-namespace", None, "x").unwrap())
        .unwrap();
    assert_eq!(
        other.owner.as_ref().unwrap().to_string(),
        "group:default/team-a"
    );
    // The guest of `development` belongs to default's team-a; default's backstage lists a
    // `guest` of its own namespace as a member.
    let guest = c
        .get(&Ref::parse("user:development/guest", None, "default").unwrap())
        .unwrap();
    assert_eq!(guest.member_of[0].to_string(), "group:default/team-a");
    let team = Ref::parse("team-a", Some("group"), "default").unwrap();
    assert_eq!(
        c.members_of(&team),
        ["breanna-davison@example.com", "guest@example.com"]
    );
}

#[test]
fn invalid_documents_are_reported_and_the_rest_read() {
    let c = catalog();
    let names: Vec<&str> = c.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "team-a",
            "breanna.davison",
            "guest",
            "backstage",
            "artist-lookup",
            "different-namespace",
            "artist-engagement-portal"
        ]
    );
    let problems: Vec<(usize, &str)> = c
        .invalid
        .iter()
        .map(|p| (p.document, p.field.as_str()))
        .collect();
    assert_eq!(problems, [(3, "metadata.name"), (4, "spec.owner")]);
    assert_eq!(c.invalid[0].file, "catalog-info.yaml");
    assert_eq!(c.invalid[0].line, 29);
    // Not YAML at all: one problem for the file, nothing read from it.
    let (e, i) = parse("kind: [unclosed", "bad.yaml", None);
    assert!(e.is_empty() && i.len() == 1 && i[0].message.starts_with("not YAML"));
    // Another apiVersion or an unknown kind.
    let (_, i) = parse(
        "apiVersion: example.com/v1\nkind: Component\nmetadata:\n  name: x\n",
        "f",
        None,
    );
    assert_eq!(i[0].field, "apiVersion");
    let (_, i) = parse(
        "apiVersion: backstage.io/v1alpha1\nkind: Gadget\nmetadata:\n  name: x\n",
        "f",
        None,
    );
    assert_eq!(i[0].field, "kind");
}

#[test]
fn dangling_references_are_listed() {
    let c = catalog();
    let dangling: Vec<String> = c
        .dangling()
        .iter()
        .map(|d| format!("{} {} {}", d.entity, d.field, d.target))
        .collect();
    assert_eq!(
        dangling,
        [
            "group:default/backstage spec.members user:default/guest",
            "component:default/artist-lookup spec.dependsOn resource:default/artists-db",
            "component:default/artist-lookup spec.providesApis api:default/artist-api",
        ]
    );
}

#[test]
fn names_and_namespaces_follow_backstages_rules() {
    for good in [
        "a",
        "artist-lookup",
        "breanna.davison",
        "A_b-c.d9",
        &"x".repeat(63),
    ] {
        assert!(valid_name(good), "{good}");
    }
    for bad in [
        "",
        "invalid component",
        "-a",
        "a-",
        "a-_b",
        "a..b",
        &"x".repeat(64),
    ] {
        assert!(!valid_name(bad), "{bad}");
    }
    assert!(valid_namespace("default") && valid_namespace("team-1"));
    for bad in ["Default", "a_b", "a.b", "a--b", "-a"] {
        assert!(!valid_namespace(bad), "{bad}");
    }
}

#[test]
fn refs_parse_with_defaults_and_refuse_empty_parts() {
    let r = Ref::parse("Group:Default/Team-A", None, "x").unwrap();
    assert_eq!(r.to_string(), "group:default/team-a");
    assert_eq!(
        Ref::parse("team-a", Some("group"), "ns")
            .unwrap()
            .to_string(),
        "group:ns/team-a"
    );
    assert!(Ref::parse("team-a", None, "default").is_none());
    assert!(Ref::parse("group:/a", None, "default").is_none());
    assert!(Ref::parse("group:a/", None, "default").is_none());
}
