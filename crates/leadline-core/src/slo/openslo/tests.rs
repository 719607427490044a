use super::*;

const FILE: &str = "apiVersion: openslo/v1
kind: SLI
metadata:
  name: checkout-requests
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: leadline
    total:
      metricSource:
        type: leadline
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
spec:
  service: checkout
  indicatorRef: checkout-requests
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: good
      target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-latency
spec:
  service: search
  indicator:
    metadata:
      name: search-fast
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code=~\"5..\"}[1m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[1m]))
  timeWindow:
    - duration: 1M
      calendar:
        startTime: 2026-01-01 00:00:00
        timeZone: Europe/Paris
  budgetingMethod: Timeslices
  objectives:
    - targetPercent: 95
      timeSliceTarget: 0.98
      timeSliceWindow: 5m
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
spec:
  description: left alone
";

fn files(text: &str) -> Vec<(String, String)> {
    vec![("slos/checkout.yaml".to_owned(), text.to_owned())]
}

fn problems(text: &str) -> Vec<String> {
    parse(&files(text))
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn valid_files_give_their_slos() {
    let slos = parse(&files(FILE)).unwrap();
    assert_eq!(slos.len(), 2);
    let a = &slos[0];
    assert_eq!(
        (a.name.as_str(), a.service.as_str(), a.target, a.line),
        ("checkout-availability", "checkout", 0.999, 18)
    );
    assert_eq!(a.window, TimeWindow::Rolling { duration: 28 * DAY });
    assert_eq!(
        (a.budgeting, &a.source),
        (Budgeting::Occurrences, &Source::Imported)
    );
    let b = &slos[1];
    assert_eq!(b.target, 0.95);
    assert_eq!(
        b.budgeting,
        Budgeting::Timeslices {
            target: 0.98,
            slice: 5 * MINUTE
        }
    );
    assert!(
        matches!(&b.source, Source::Prometheus { bad: Some(q), good: None, .. } if q.contains("5.."))
    );
    assert_eq!(b.window.period(), 30 * DAY);
}

#[test]
fn calendar_windows_are_the_period_holding_the_moment_in_their_zone() {
    let slos = parse(&files(FILE)).unwrap();
    let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    // Paris is UTC+1 in March: the month starts at 2026-02-28T23:00Z.
    assert_eq!(
        slos[1].window.at(ts("2026-03-15T12:00:00Z")),
        (ts("2026-02-28T23:00:00Z"), ts("2026-03-31T22:00:00Z"))
    );
    // The last instant of February (Paris) is still in February's period.
    assert_eq!(
        slos[1].window.at(ts("2026-02-28T22:59:59Z")).0,
        ts("2026-01-31T23:00:00Z")
    );
    // Rolling: the duration before the moment.
    let at = ts("2026-03-15T12:00:00Z");
    assert_eq!(slos[0].window.at(at), (at - 28 * DAY, at));
}

#[test]
fn invalid_content_is_named_by_line_and_field() {
    let bad = FILE
        .replace("target: 0.999", "target: 1.5")
        .replace("duration: 28d", "duration: 28x")
        .replace("budgetingMethod: Timeslices", "budgetingMethod: Sometimes")
        .replace(
            "  displayName: Checkout availability",
            "  displayName: x\n  owner: me",
        );
    let got = problems(&bad);
    for expected in [
        "slos/checkout.yaml: line 20, field metadata.owner: unknown field",
        "slos/checkout.yaml: line 25, field spec.timeWindow.0.duration: \"28x\"",
        "slos/checkout.yaml: line 30, field spec.objectives.0.target: 1.5 is not between 0 and 1",
        "slos/checkout.yaml: line 59, field spec.budgetingMethod: \"Sometimes\": expected Occurrences, Timeslices or RatioTimeslices",
    ] {
        assert!(
            got.iter().any(|g| g.starts_with(expected)),
            "missing {expected:?} in {got:#?}"
        );
    }
    let got = problems(&FILE.replace("indicatorRef: checkout-requests", "indicatorRef: nothing"));
    assert_eq!(
        got,
        [
            "slos/checkout.yaml: line 22, field spec.indicatorRef: no kind: SLI named \"nothing\" in the SLO files"
        ]
    );
    let twice = format!("{FILE}---\n{}", FILE.split("---\n").nth(1).unwrap());
    assert!(problems(&twice)[0].contains("is already the name of an SLO"));
    assert!(problems("kind: [\n")[0].contains("is not valid YAML"));
    assert!(
        problems("apiVersion: openslo/v1\nkind: Thing\nmetadata: {name: x}\nspec: {}\n")[0]
            .contains("unknown kind \"Thing\"")
    );
}
