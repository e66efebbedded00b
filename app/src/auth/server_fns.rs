use leptos::prelude::*;

use super::CurrentUser;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{guard, password, session, throttle};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::users::{store as users, NewUser};

/// The signed-in person, or `None` when nobody is signed in.
#[server]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(guard::session().map(|session| session.user))
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: uuid::Uuid) -> Result<(), AppError> {
    let state = guard::state()?;
    // A fresh id on every sign-in; an id planted before sign-in is never promoted.
    if let Some(previous) = guard::session() {
        session::delete(&state.pool, &previous.session_hash).await?;
    }
    let id = session::create(
        &state.pool,
        &state.auth,
        user_id,
        &guard::user_agent(),
        &guard::client_address(),
    )
    .await?;
    set_cookie(session::cookie(&id, &state.auth));
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_cookie(value: String) {
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&value),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// Creates the first administrator and signs them in. Refused once anyone has an account.
#[server]
pub async fn setup_admin(
    email: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let state = guard::state()?;
        let user = NewUser::parse(
            &email,
            &display_name,
            &password,
            Some(&password_confirm),
            "admin",
        )?;
        let user_id = users::create_first_admin(&state.pool, user).await?;
        start_session(user_id).await
    })
    .await
}

/// Signs in with email and password, throttled per account and per client address.
#[server]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    guard::respond(async {
        let state = guard::state()?;
        let email = email.trim().to_lowercase();
        if email.is_empty() || password.is_empty() {
            let mut check = crate::error::Validator::new();
            check.check(!email.is_empty(), "email", "Enter your email address.");
            check.check(!password.is_empty(), "password", "Enter your password.");
            return check.finish();
        }
        let address = guard::client_address();
        if let Some(seconds) =
            throttle::begin_attempt(&state.pool, &state.auth, &email, &address).await?
        {
            tracing::warn!(%address, "sign-in throttled");
            return Err(AppError::TooManyAttempts {
                retry_after_seconds: seconds,
            });
        }
        let record = users::login_record(&state.pool, &email).await?;
        let verified =
            password::verify(password, record.as_ref().map(|r| r.password_hash.clone())).await?;
        match record {
            Some(record) if verified && !record.disabled => {
                throttle::clear_account(&state.pool, &email).await?;
                start_session(record.user_id).await
            }
            _ => {
                // The attempt was counted before the password was checked.
                // One message for every failure, so that it does not tell which accounts exist.
                Err(AppError::field(
                    "password",
                    "That email and password do not match an active account.",
                ))
            }
        }
    })
    .await
}

#[server]
pub async fn logout() -> Result<(), AppError> {
    guard::respond(async {
        let state = guard::state()?;
        if let Some(current) = guard::session() {
            session::delete(&state.pool, &current.session_hash).await?;
        }
        set_cookie(session::clearing_cookie(&state.auth));
        Ok(())
    })
    .await
}

/// Changes the caller's own password; every other session of theirs ends.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirm: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let state = guard::state()?;
        let current = guard::session().ok_or(AppError::Unauthenticated)?;
        let mut check = crate::error::Validator::new();
        if let Some(problem) = super::password_problem(&new_password) {
            check.check(false, "new_password", problem);
        }
        check.check(
            new_password == new_password_confirm,
            "new_password_confirm",
            "The two passwords differ.",
        );
        check.check(
            new_password != current_password,
            "new_password",
            "Choose a password different from the current one.",
        );
        check.finish()?;
        let record = users::login_record(&state.pool, &current.user.email)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !password::verify(current_password, Some(record.password_hash)).await? {
            return Err(AppError::field(
                "current_password",
                "This is not your current password.",
            ));
        }
        users::set_password(
            &state.pool,
            &Actor::User(current.user.clone()),
            current.user.user_id,
            new_password,
            Some(&current.session_hash),
        )
        .await
    })
    .await
}
