//! The autosave writer: a named background thread (`nadir-store-writer`)
//! owning the project connection, fed by a channel, so the UI never waits
//! for the disk. Each request is one transaction. Results come back as
//! [`WriteEvent`]s. A failed request is kept and retried, in order, before
//! anything later is written, so nothing already recorded is dropped.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{AuditEntry, Project, SeriesRef, Settings, StoreError, StoredPatient};
use crate::recist::Date;

/// One write.
#[derive(Debug, Clone)]
pub enum WriteRequest {
    /// Rewrite a patient's rows and append audit entries (one transaction).
    SavePatient {
        /// The patient after the change.
        patient: StoredPatient,
        /// What changed.
        audit: Vec<AuditEntry>,
    },
    /// Record a series reference.
    PutSeries(SeriesRef),
    /// Lock or unlock a timepoint (audited).
    SetLock {
        /// Patient key.
        patient_key: String,
        /// Timepoint.
        date: Date,
        /// Locked or not.
        locked: bool,
    },
    /// Save the settings.
    SaveSettings(Settings),
}

/// What the writer reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteEvent {
    /// Request `id` is on disk.
    Saved {
        /// The request.
        id: u64,
        /// Time of the transaction.
        elapsed: Duration,
    },
    /// Request `id` failed; it is kept and retried before later requests.
    Failed {
        /// The request.
        id: u64,
        /// Why.
        error: String,
    },
}

enum Message {
    Write {
        id: u64,
        reader: String,
        request: Box<WriteRequest>,
    },
    Retry,
    Stop,
}

/// Handle of the writer thread.
#[derive(Debug)]
pub struct Writer {
    tx: Sender<Message>,
    rx: Receiver<WriteEvent>,
    next_id: u64,
    unsaved: std::collections::BTreeSet<u64>,
    handle: Option<JoinHandle<()>>,
    /// Time of the last saved transaction.
    pub last_elapsed: Option<Duration>,
    /// The last failure, cleared by the next success.
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

fn write(project: &mut Project, reader: &str, request: &WriteRequest) -> Result<(), StoreError> {
    match request {
        WriteRequest::SavePatient { patient, audit } => {
            project.save_patient(patient, audit, reader)
        }
        WriteRequest::PutSeries(series) => project.put_series(series),
        WriteRequest::SetLock {
            patient_key,
            date,
            locked,
        } => project.set_lock(patient_key, *date, *locked, reader),
        WriteRequest::SaveSettings(settings) => project.save_settings(settings, reader),
    }
}

impl Writer {
    /// Starts the writer thread on an open project.
    pub fn start(mut project: Project) -> std::io::Result<Writer> {
        let (tx, requests) = channel::<Message>();
        let (events, rx) = channel::<WriteEvent>();
        let handle = std::thread::Builder::new()
            .name("nadir-store-writer".into())
            .spawn(move || {
                let mut backlog: VecDeque<(u64, String, WriteRequest)> = VecDeque::new();
                while let Ok(message) = requests.recv() {
                    match message {
                        Message::Write {
                            id,
                            reader,
                            request,
                        } => backlog.push_back((id, reader, *request)),
                        Message::Retry => {}
                        Message::Stop => break,
                    }
                    while let Some((id, reader, request)) = backlog.front() {
                        let started = Instant::now();
                        match write(&mut project, reader, request) {
                            Ok(()) => {
                                let _ = events.send(WriteEvent::Saved {
                                    id: *id,
                                    elapsed: started.elapsed(),
                                });
                                backlog.pop_front();
                            }
                            Err(e) => {
                                let _ = events.send(WriteEvent::Failed {
                                    id: *id,
                                    error: e.to_string(),
                                });
                                break;
                            }
                        }
                    }
                }
            })?;
        Ok(Writer {
            tx,
            rx,
            next_id: 0,
            unsaved: Default::default(),
            handle: Some(handle),
            last_elapsed: None,
            last_error: None,
        })
    }

    /// Queues a write by `reader`; returns its id.
    pub fn send(&mut self, reader: &str, request: WriteRequest) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.unsaved.insert(id);
        if self
            .tx
            .send(Message::Write {
                id,
                reader: reader.to_string(),
                request: Box::new(request),
            })
            .is_err()
        {
            self.last_error = Some("the writer thread has stopped; changes are not saved".into());
        }
        id
    }

    /// Asks the writer to retry a failed write now.
    pub fn retry(&self) {
        let _ = self.tx.send(Message::Retry);
    }

    /// Events since the last poll (never blocks).
    pub fn poll(&mut self) -> Vec<WriteEvent> {
        let events: Vec<WriteEvent> = self.rx.try_iter().collect();
        for e in &events {
            self.note(e);
        }
        events
    }

    fn note(&mut self, event: &WriteEvent) {
        match event {
            WriteEvent::Saved { id, elapsed } => {
                self.unsaved.remove(id);
                self.last_elapsed = Some(*elapsed);
                self.last_error = None;
            }
            WriteEvent::Failed { error, .. } => self.last_error = Some(error.clone()),
        }
    }

    /// Writes not yet confirmed on disk.
    pub fn pending(&self) -> usize {
        self.unsaved.len()
    }

    /// Waits until every queued write is on disk or one has failed (at
    /// most `timeout`); returns the events seen.
    pub fn flush(&mut self, timeout: Duration) -> Vec<WriteEvent> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while !self.unsaved.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => {
                    self.note(&event);
                    let failed = matches!(event, WriteEvent::Failed { .. });
                    seen.push(event);
                    if failed {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        seen
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
