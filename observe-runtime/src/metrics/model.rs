//! observe's own metrics as the exposition model: per metric a counter (`<name>_total`)
//! and a histogram (`<name>_duration_seconds`) over the same series, with their objectives'
//! labels, and the in-flight gauges (`<name>_in_flight`).

use super::format::{self, Family, Kind, Point, Sample};
use super::in_flight::gauge_name;
use super::recording::{FamilySnapshot, Recording};
use crate::context::Outcome;
use crate::observed::Objective;
// The labels of a function's objective, which the SLO rules select on (autometrics'
// names, so that its rules and dashboards read observe's series too).
use observe_fields::{
    OBJECTIVE_LATENCY_THRESHOLD_LABEL, OBJECTIVE_NAME_LABEL, OBJECTIVE_PERCENTILE_LABEL,
};

/// Every family observe records itself, sorted by name within each kind.
pub(crate) fn families(recording: &Recording) -> Vec<Family> {
    let snapshot = recording.snapshot();
    let mut families = Vec::with_capacity(snapshot.len() * 3);
    for family in &snapshot {
        let name = &family.name;
        families.push(Family {
            name: format!("{name}_total"),
            help: Some(format!("Completed calls of {name}, by result.")),
            kind: Kind::Counter,
            samples: family
                .series
                .iter()
                .map(|series| Sample {
                    labels: with_success_objective(&series.labels, series.objective),
                    point: Point::Number {
                        value: series.histogram.count() as f64,
                        exemplar: series.histogram.latest_exemplar(),
                    },
                })
                .collect(),
        });
        families.push(Family {
            name: format!("{name}_duration_seconds"),
            help: Some(format!(
                "Duration of calls of {name} in seconds, by result."
            )),
            kind: Kind::Histogram,
            samples: family
                .series
                .iter()
                .map(|series| Sample {
                    labels: with_latency_objective(&series.labels, series.objective),
                    point: Point::Histogram {
                        bounds: series.histogram.bounds.clone(),
                        counts: series.histogram.counts.clone(),
                        sum: series.histogram.sum,
                        exemplars: series.histogram.exemplars.clone(),
                    },
                })
                .collect(),
        });
    }
    for family in snapshot.iter().filter(|family| family.in_flight) {
        families.push(in_flight(family));
    }
    families
}

/// `<name>_in_flight`: per label set (without `result`), the calls in progress, counted on
/// its `result="ok"` series; and the overflow series' count.
fn in_flight(family: &FamilySnapshot) -> Family {
    let mut gauges: Vec<(Vec<(String, String)>, i64)> = Vec::new();
    for series in &family.series {
        let labels = match series.outcome {
            Some(Outcome::Ok) => series.labels[..series.labels.len() - 1].to_vec(),
            None => series.labels.clone(),
            Some(_) => continue,
        };
        // Two functions sharing the metric and labels, one with an objective, are two
        // series but one label set here; the series are sorted by labels, so they are
        // neighbours.
        match gauges.last_mut().filter(|(known, _)| *known == labels) {
            Some((_, calls)) => *calls += series.in_flight,
            None => gauges.push((labels, series.in_flight)),
        }
    }
    Family {
        name: gauge_name(&family.name),
        help: Some(format!("Calls of {} in progress.", family.name)),
        kind: Kind::Gauge,
        samples: gauges
            .into_iter()
            .map(|(labels, calls)| Sample {
                labels,
                point: Point::Number {
                    value: calls as f64,
                    exemplar: None,
                },
            })
            .collect(),
    }
}

/// The counter's labels: with a success objective, its name and target percentile.
fn with_success_objective(
    labels: &[(String, String)],
    objective: Option<&Objective>,
) -> Vec<(String, String)> {
    let mut labels = labels.to_vec();
    if let Some(objective) = objective
        && let Some(percentile) = objective.success
    {
        labels.push((OBJECTIVE_NAME_LABEL.to_owned(), objective.name.to_owned()));
        labels.push((OBJECTIVE_PERCENTILE_LABEL.to_owned(), percentile.to_owned()));
    }
    labels
}

/// The histogram's labels: with a latency objective, its name, target percentile and
/// threshold, the threshold written as the `le` of its bucket is.
fn with_latency_objective(
    labels: &[(String, String)],
    objective: Option<&Objective>,
) -> Vec<(String, String)> {
    let mut labels = labels.to_vec();
    if let Some(objective) = objective
        && let Some((threshold, percentile)) = objective.latency
    {
        labels.push((OBJECTIVE_NAME_LABEL.to_owned(), objective.name.to_owned()));
        labels.push((OBJECTIVE_PERCENTILE_LABEL.to_owned(), percentile.to_owned()));
        labels.push((
            OBJECTIVE_LATENCY_THRESHOLD_LABEL.to_owned(),
            format::bound_text(threshold),
        ));
    }
    labels
}
