//! `SecretResolver`: the cascade itself.
//!
//! It asks its providers in order and stops at the first `Found`; a provider
//! error stops the lookup of that secret at once (a failing tier must never
//! fall through to a default). After every provider, the request's own
//! `default` is the last tier. The resolver owns its providers, so their
//! caches live as long as it does (one decrypt per file for a long-running
//! program) and are wiped when it is dropped.

use super::{
    Lookup, Provider, ProviderStatus, ResolverSettings, SecretError, SecretRecord, SecretRequest,
    SecretSource,
};
use std::sync::Arc;

/// What a tier that did not have a secret said about it.
enum Said {
    /// Missing, with the words of what was tried.
    Missing(String),
    /// Absent from the tier at this index of the providers: ask it for the words.
    Absent(usize),
    /// Passed over, with the reason.
    Skipped(Arc<str>),
}

/// Resolves requests through an ordered list of providers.
pub struct SecretResolver {
    providers: Vec<Box<dyn Provider>>,
    skipped: Vec<(SecretSource, Arc<str>)>,
    /// What each tier said of the request being resolved; kept from one
    /// request to the next so that its room is reused, not allocated again.
    answers: Vec<(SecretSource, Said)>,
}

impl SecretResolver {
    /// A resolver asking `providers` in the given order, then the request's default.
    pub fn new(providers: Vec<Box<dyn Provider>>) -> Self {
        SecretResolver {
            providers,
            skipped: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// The standard cascade, from settings checked first
    /// ([`ResolverSettings::check`]): a [`SecretError::Config`] when they
    /// would not build the cascade they describe.
    pub fn try_from_settings(settings: ResolverSettings) -> Result<Self, SecretError> {
        settings.check()?;
        Ok(Self::from_settings(settings))
    }

    /// The standard cascade: overrides, the configured tiers in order, default.
    /// The settings are taken as they are (the CLI's come from a checked
    /// manifest): a tier named twice is asked twice, and `Override` or
    /// `Default` in `order` are left out. [`Self::try_from_settings`] refuses those.
    pub fn from_settings(settings: ResolverSettings) -> Self {
        Self::new(settings.into_providers())
    }

    /// Resolves one request. `Ok(None)` only for an optional secret nobody has.
    pub fn resolve(
        &mut self,
        request: &SecretRequest,
    ) -> Result<Option<SecretRecord>, SecretError> {
        // What each tier said, put into words only if nobody has the secret.
        self.answers.clear();
        for (index, provider) in self.providers.iter_mut().enumerate() {
            let source = provider.source();
            if !request.allows(source) {
                continue;
            }
            match provider.lookup(request)? {
                Lookup::Found(record) => return Ok(Some(record)),
                Lookup::Absent => self.answers.push((source, Said::Absent(index))),
                Lookup::Missing { tried } if tried.is_empty() => {}
                Lookup::Skipped { reason } => {
                    if !self
                        .skipped
                        .iter()
                        .any(|(s, r)| *s == source && *r == reason)
                    {
                        self.skipped.push((source, reason.clone()));
                    }
                    self.answers.push((source, Said::Skipped(reason)));
                }
                Lookup::Missing { tried } => self.answers.push((source, Said::Missing(tried))),
            }
        }
        if let Some(default) = &request.default {
            return Ok(Some(SecretRecord::new(
                SecretSource::Default,
                default.clone(),
            )));
        }
        if !request.required {
            return Ok(None);
        }
        let providers = &mut self.providers;
        let tried: Vec<String> = self
            .answers
            .drain(..)
            .filter_map(|(source, answer)| match answer {
                Said::Skipped(reason) => Some(format!("{source} skipped ({reason})")),
                Said::Missing(tried) => Some(format!("{source} {tried}")),
                Said::Absent(index) => {
                    let tried = providers[index].tried(request);
                    (!tried.is_empty()).then(|| format!("{source} {tried}"))
                }
            })
            .collect();
        Err(SecretError::NotFound {
            name: request.name.clone(),
            tried: if !tried.is_empty() {
                tried.join("; ")
            } else if let Some(allowed) = self.unasked(request) {
                format!("no provider: its providers ({allowed}) are not in the cascade's order")
            } else {
                "no provider".to_string()
            },
        })
    }

    /// The tiers `request` is limited to, when none of them is in the
    /// cascade: why nobody was asked (a scope that drops the keyring, with
    /// an entry limited to it and no default).
    fn unasked(&self, request: &SecretRequest) -> Option<String> {
        let allowed = request.metadata.providers.as_ref()?;
        let asked = self
            .providers
            .iter()
            .any(|provider| allowed.contains(&provider.source()));
        let names: Vec<&str> = allowed.iter().map(|source| source.name()).collect();
        (!asked).then(|| names.join(", "))
    }

    /// Resolves every request, in order, as one batch (see [`Provider::batch`]):
    /// what `kstrun` does for a manifest. Each answer is what
    /// [`resolve`](Self::resolve) would give.
    pub fn resolve_all<'r>(
        &mut self,
        requests: impl IntoIterator<Item = &'r SecretRequest>,
    ) -> Vec<Result<Option<SecretRecord>, SecretError>> {
        self.in_batch(|resolver| {
            requests
                .into_iter()
                .map(|request| resolver.resolve(request))
                .collect()
        })
    }

    /// Runs `lookups` as one batch (see [`Provider::batch`]), for callers
    /// that keep each answer with something of their own instead of in a
    /// list of answers.
    ///
    /// The batch ends when `lookups` returns, and also when it panics: a
    /// resolver used after a caught panic sees the environment and files
    /// as they are then, not the batch's snapshot of them.
    pub fn in_batch<T>(&mut self, lookups: impl FnOnce(&mut Self) -> T) -> T {
        for provider in &mut self.providers {
            provider.batch(true);
        }
        let batch = Batch(self);
        lookups(&mut *batch.0)
    }

    /// Resolves a required, unscoped secret by its dotted name.
    pub fn resolve_secret(&mut self, name: &str) -> Result<SecretRecord, SecretError> {
        let request = SecretRequest::new(name);
        self.resolve(&request)?
            .ok_or_else(|| SecretError::NotFound {
                name: name.to_string(),
                tried: "all providers".to_string(),
            })
    }

    /// Tiers that were passed over during lookups so far, with the reason (for `-v`).
    pub fn skipped_tiers(&self) -> &[(SecretSource, Arc<str>)] {
        &self.skipped
    }

    /// What the providers' lookups so far found worth a warning (see
    /// [`Provider::warnings`]), in cascade order.
    pub fn warnings(&self) -> Vec<String> {
        self.providers.iter().flat_map(|p| p.warnings()).collect()
    }

    /// Each provider's state, in cascade order. May connect to stores.
    pub fn statuses(&mut self) -> Vec<ProviderStatus> {
        self.providers.iter_mut().map(|p| p.status()).collect()
    }
}

/// Ends a batch when dropped: after the lookups, or while unwinding from them.
struct Batch<'r>(&'r mut SecretResolver);

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        for provider in &mut self.0.providers {
            provider.batch(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scripted provider: answers from a fixed list, or fails.
    struct Scripted {
        source: SecretSource,
        answers: Vec<(&'static str, &'static str)>,
        fail: bool,
    }

    impl Provider for Scripted {
        fn source(&self) -> SecretSource {
            self.source
        }
        fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
            if self.fail {
                return Err(SecretError::provider(
                    self.source.name(),
                    &request.name,
                    "broken",
                ));
            }
            Ok(
                match self.answers.iter().find(|(k, _)| *k == request.name) {
                    Some((_, v)) => {
                        Lookup::Found(SecretRecord::new(self.source, SecretValue::from(*v)))
                    }
                    None => Lookup::Missing {
                        tried: request.name.clone(),
                    },
                },
            )
        }
    }

    fn scripted(
        source: SecretSource,
        answers: &[(&'static str, &'static str)],
    ) -> Box<dyn Provider> {
        Box::new(Scripted {
            source,
            answers: answers.to_vec(),
            fail: false,
        })
    }

    fn resolver() -> SecretResolver {
        SecretResolver::new(vec![
            scripted(SecretSource::Override, &[("a", "override")]),
            scripted(SecretSource::Env, &[("a", "env"), ("b", "env")]),
            scripted(
                SecretSource::Sops,
                &[("a", "sops"), ("b", "sops"), ("c", "sops")],
            ),
        ])
    }

    fn value_of(record: Option<SecretRecord>) -> (SecretSource, String) {
        let record = record.expect("a record");
        (record.source, record.value.as_str().unwrap().to_string())
    }

    #[test]
    fn first_provider_with_a_value_wins() {
        let mut r = resolver();
        assert_eq!(
            value_of(r.resolve(&SecretRequest::new("a")).unwrap()),
            (SecretSource::Override, "override".into())
        );
        assert_eq!(
            value_of(r.resolve(&SecretRequest::new("b")).unwrap()),
            (SecretSource::Env, "env".into())
        );
        assert_eq!(
            value_of(r.resolve(&SecretRequest::new("c")).unwrap()),
            (SecretSource::Sops, "sops".into())
        );
    }

    #[test]
    fn default_is_last_and_only_when_nobody_answers() {
        let mut r = resolver();
        let mut request = SecretRequest::new("c");
        request.default = Some(SecretValue::from("dflt"));
        assert_eq!(value_of(r.resolve(&request).unwrap()).0, SecretSource::Sops);
        request.name = "zzz".into();
        assert_eq!(
            value_of(r.resolve(&request).unwrap()),
            (SecretSource::Default, "dflt".into())
        );
    }

    #[test]
    fn restriction_skips_middle_tiers_but_not_overrides() {
        let mut r = resolver();
        let mut request = SecretRequest::new("b");
        request.metadata.providers = Some(vec![SecretSource::Sops]);
        assert_eq!(value_of(r.resolve(&request).unwrap()).0, SecretSource::Sops);
        request.name = "a".into();
        assert_eq!(
            value_of(r.resolve(&request).unwrap()).0,
            SecretSource::Override
        );
    }

    #[test]
    fn a_request_limited_to_tiers_not_in_the_cascade_says_so() {
        let mut r = SecretResolver::new(vec![
            scripted(SecretSource::Env, &[]),
            scripted(SecretSource::Sops, &[("b", "sops")]),
        ]);
        let mut request = SecretRequest::new("b");
        request.metadata.providers = Some(vec![SecretSource::Keyring]);
        let text = r.resolve(&request).unwrap_err().to_string();
        assert!(
            text.contains("its providers (keyring) are not in the cascade's order"),
            "{text}"
        );
    }

    #[test]
    fn missing_required_lists_what_was_tried_and_optional_is_none() {
        let mut r = resolver();
        let err = r.resolve(&SecretRequest::new("nope")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("env nope") && text.contains("sops nope"),
            "{text}"
        );
        let mut optional = SecretRequest::new("nope");
        optional.required = false;
        assert!(r.resolve(&optional).unwrap().is_none());
    }

    /// A provider that only records whether a batch is on.
    struct Batched(Arc<std::sync::atomic::AtomicBool>);

    impl Provider for Batched {
        fn source(&self) -> SecretSource {
            SecretSource::Env
        }
        fn lookup(&mut self, _request: &SecretRequest) -> Result<Lookup, SecretError> {
            Ok(Lookup::Absent)
        }
        fn batch(&mut self, active: bool) {
            self.0.store(active, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_batch_ends_even_when_its_lookups_panic() {
        let active = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut r = SecretResolver::new(vec![Box::new(Batched(Arc::clone(&active)))]);
        let seen = r.in_batch(|_| active.load(Ordering::Relaxed));
        assert!(seen && !active.load(Ordering::Relaxed));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.in_batch(|_| -> () { panic!("a lookup panicked") })
        }));
        assert!(caught.is_err());
        assert!(!active.load(Ordering::Relaxed), "the batch was left on");
    }

    /// A provider that has nothing and tells what it tried only when asked.
    struct Absent {
        source: SecretSource,
        words: &'static str,
        asked: Arc<AtomicUsize>,
    }

    impl Provider for Absent {
        fn source(&self) -> SecretSource {
            self.source
        }
        fn lookup(&mut self, _request: &SecretRequest) -> Result<Lookup, SecretError> {
            Ok(Lookup::Absent)
        }
        fn tried(&mut self, request: &SecretRequest) -> String {
            self.asked.fetch_add(1, Ordering::Relaxed);
            self.words.replace("NAME", &request.name)
        }
    }

    #[test]
    fn an_absent_answer_is_put_into_words_only_when_nobody_has_the_secret() {
        let asked = Arc::new(AtomicUsize::new(0));
        let absent = |source, words| {
            Box::new(Absent {
                source,
                words,
                asked: Arc::clone(&asked),
            })
        };
        let mut r = SecretResolver::new(vec![
            absent(SecretSource::Env, "ENV_NAME"),
            absent(SecretSource::Keyring, ""),
            scripted(SecretSource::Sops, &[("a", "sops")]),
        ]);
        assert_eq!(
            value_of(r.resolve(&SecretRequest::new("a")).unwrap()).0,
            SecretSource::Sops
        );
        assert_eq!(asked.load(Ordering::Relaxed), 0, "found: nobody asked");
        let text = r.resolve(&SecretRequest::new("b")).unwrap_err().to_string();
        assert_eq!(asked.load(Ordering::Relaxed), 2);
        assert!(text.contains("tried: env ENV_b; sops b"), "{text}");
        assert!(
            !text.contains("keyring"),
            "empty words are left out: {text}"
        );
    }

    #[test]
    fn a_failing_provider_stops_before_the_default() {
        let mut r = SecretResolver::new(vec![Box::new(Scripted {
            source: SecretSource::Sops,
            answers: vec![],
            fail: true,
        })]);
        let mut request = SecretRequest::new("x");
        request.default = Some(SecretValue::from("dflt"));
        assert!(matches!(
            r.resolve(&request),
            Err(SecretError::Provider { .. })
        ));
    }
}
