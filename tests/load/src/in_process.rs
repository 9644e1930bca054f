//! Our search in-process: each question asked of the index directly, one at a time, as a
//! single core would answer them.

use std::time::{Duration, Instant};

use crate::questions::{Question, QuestionKind};
use crate::report::Timings;
use api::relay::PageRequest;
use api::search::{SearchIndex, Shown};

/// How many hits a page holds in every measurement, and how many are compared for overlap.
pub const PAGE: usize = 20;

/// What in-process search answered.
pub struct InProcess {
    pub timings: Timings,
    /// Hits per question on average, over the whole result set (not the page), when the
    /// answers counted them.
    pub mean_hits: Option<f64>,
    /// Each timed question's answer, to compare with the baseline's.
    pub answers: Vec<Answer>,
}

/// One question's answer: the top `PAGE` service ids, and how long it took.
pub struct Answer {
    pub top: Vec<String>,
    pub latency: Duration,
}

/// Asks each question for answers that show `shown`.
pub fn run(search: &SearchIndex, warm_up: &[Question], timed: &[Question], shown: Shown) -> anyhow::Result<InProcess> {
    let page = PageRequest::new(Some(PAGE as i32), None)?;
    let request = |question: &Question| api::search::SearchRequest {
        shown,
        ..question.request()
    };
    for question in warm_up {
        search.search(&request(question), page)?;
    }
    let mut samples: Vec<(QuestionKind, Duration)> = Vec::with_capacity(timed.len());
    let mut answers = Vec::with_capacity(timed.len());
    let mut hits = 0usize;
    let all = Instant::now();
    for question in timed {
        // Building the request is part of answering it, as it is for a server.
        let started = Instant::now();
        let results = search.search(&request(question), page)?;
        let latency = started.elapsed();
        samples.push((question.kind, latency));
        hits += results.total.unwrap_or_default();
        answers.push(Answer {
            top: results.hits.into_iter().map(|hit| hit.service_id).collect(),
            latency,
        });
    }
    Ok(InProcess {
        timings: Timings::of(samples, all.elapsed()),
        mean_hits: shown.total.then(|| hits as f64 / timed.len().max(1) as f64),
        answers,
    })
}
