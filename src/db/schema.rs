// Written by hand: one schema for both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        email_domains -> Text,
        share_incidents -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        role -> Text,
        organization_id -> Nullable<BigInt>,
        time_zone -> Text,
        active -> Bool,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ip -> Text,
        user_agent -> Text,
    }
}

diesel::table! {
    setup_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        email -> Text,
        ip -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    account_lockouts (email) {
        email -> Text,
        locked_until -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        action -> Text,
        target -> Text,
        ip -> Text,
        request_id -> Text,
        details -> Text,
    }
}

diesel::table! {
    services (id) {
        id -> BigInt,
        name -> Text,
        description -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    incidents (id) {
        id -> BigInt,
        title -> Text,
        description -> Text,
        service_id -> BigInt,
        impact -> Text,
        urgency -> Text,
        priority -> Text,
        severity -> Text,
        status -> Text,
        is_open -> Bool,
        reporter_id -> BigInt,
        organization_id -> Nullable<BigInt>,
        assignee_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        resolution -> Text,
        version -> Integer,
        tier_id -> BigInt,
        first_response_at -> Nullable<Timestamp>,
        response_due_at -> Nullable<Timestamp>,
        resolution_due_at -> Nullable<Timestamp>,
        response_warn_at -> Nullable<Timestamp>,
        resolution_warn_at -> Nullable<Timestamp>,
        response_warned_at -> Nullable<Timestamp>,
        resolution_warned_at -> Nullable<Timestamp>,
        response_breached_at -> Nullable<Timestamp>,
        resolution_breached_at -> Nullable<Timestamp>,
        description_format -> Text,
    }
}

diesel::table! {
    sla_calendars (id) {
        id -> BigInt,
        name -> Text,
        always -> Bool,
        time_zone -> Text,
        week -> Text,
        holidays -> Text,
    }
}

diesel::table! {
    sla_policies (id) {
        id -> BigInt,
        severity -> Text,
        organization_id -> Nullable<BigInt>,
        first_response_minutes -> Integer,
        resolution_minutes -> Integer,
        calendar_id -> BigInt,
        auto_escalate -> Bool,
    }
}

diesel::table! {
    tiers (id) {
        id -> BigInt,
        name -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tier_members (tier_id, user_id) {
        tier_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    oncall_rotations (tier_id) {
        tier_id -> BigInt,
        shift_days -> Integer,
        start_date -> Date,
    }
}

diesel::table! {
    oncall_members (tier_id, position) {
        tier_id -> BigInt,
        position -> Integer,
        user_id -> BigInt,
    }
}

diesel::table! {
    oncall_overrides (tier_id, day) {
        tier_id -> BigInt,
        day -> Date,
        user_id -> BigInt,
    }
}

diesel::table! {
    incident_tags (incident_id, tag) {
        incident_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    incident_watchers (incident_id, user_id) {
        incident_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        incident_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        internal -> Bool,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        format -> Text,
    }
}

diesel::table! {
    incident_events (id) {
        id -> BigInt,
        incident_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        kind -> Text,
        field -> Text,
        old_value -> Text,
        new_value -> Text,
        internal -> Bool,
        comment_id -> Nullable<BigInt>,
        version -> Integer,
    }
}

diesel::table! {
    incident_links (id) {
        id -> BigInt,
        from_id -> BigInt,
        to_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    search_docs (id) {
        id -> BigInt,
        incident_id -> BigInt,
        comment_id -> Nullable<BigInt>,
        internal -> Bool,
        title -> Text,
        body -> Text,
    }
}

diesel::table! {
    escalations (id) {
        id -> BigInt,
        incident_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        from_tier_id -> BigInt,
        to_tier_id -> BigInt,
        reason_code -> Text,
        reason_text -> Text,
        automatic -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        created_at -> Timestamp,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        incident_id -> Nullable<BigInt>,
        to_address -> Text,
        to_name -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        in_reply_to -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Text,
        sent_at -> Nullable<Timestamp>,
        list_unsubscribe -> Text,
        auto_submitted -> Text,
    }
}

diesel::table! {
    notification_prefs (user_id, kind) {
        user_id -> BigInt,
        kind -> Text,
        mode -> Text,
    }
}

diesel::table! {
    digest_runs (user_id) {
        user_id -> BigInt,
        last_date -> Date,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inbound_messages (id) {
        id -> BigInt,
        received_at -> Timestamp,
        message_id -> Text,
        from_address -> Text,
        from_name -> Text,
        subject -> Text,
        status -> Text,
        outcome -> Text,
        reason -> Text,
        incident_id -> Nullable<BigInt>,
        comment_id -> Nullable<BigInt>,
        raw -> Nullable<Binary>,
        handled_by -> Nullable<BigInt>,
        handled_at -> Nullable<Timestamp>,
        raw_encoding -> Text,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        incident_id -> BigInt,
        comment_id -> Nullable<BigInt>,
        internal -> Bool,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        data -> Binary,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    problems (id) {
        id -> BigInt,
        title -> Text,
        statement -> Text,
        category -> Text,
        analysis -> Text,
        contributing_factors -> Text,
        five_whys -> Text,
        customer_impact -> Text,
        workaround -> Text,
        owner_id -> Nullable<BigInt>,
        status -> Text,
        resolution -> Text,
        fix_released_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        version -> Integer,
        watch_days -> Integer,
    }
}

diesel::table! {
    problem_services (problem_id, service_id) {
        problem_id -> BigInt,
        service_id -> BigInt,
    }
}

diesel::table! {
    problem_incidents (problem_id, incident_id) {
        problem_id -> BigInt,
        incident_id -> BigInt,
        linked_at -> Timestamp,
        linked_by -> Nullable<BigInt>,
        after_fix -> Bool,
    }
}

diesel::table! {
    problem_actions (id) {
        id -> BigInt,
        problem_id -> BigInt,
        title -> Text,
        kind -> Text,
        owner_id -> Nullable<BigInt>,
        due_date -> Nullable<Date>,
        status -> Text,
        reason -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        overdue_notified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bugs (id) {
        id -> BigInt,
        title -> Text,
        description -> Text,
        service_id -> Nullable<BigInt>,
        severity -> Text,
        status -> Text,
        external_ref -> Text,
        assignee_id -> Nullable<BigInt>,
        fix_ineffective -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        release_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    bug_problems (bug_id, problem_id) {
        bug_id -> BigInt,
        problem_id -> BigInt,
    }
}

diesel::table! {
    bug_incidents (bug_id, incident_id) {
        bug_id -> BigInt,
        incident_id -> BigInt,
    }
}

diesel::table! {
    releases (id) {
        id -> BigInt,
        version -> Text,
        title -> Text,
        notes -> Text,
        deployment_type -> Text,
        window_start -> Nullable<Timestamp>,
        window_end -> Nullable<Timestamp>,
        rollback_plan -> Text,
        status -> Text,
        monitor_hours -> Integer,
        approved_by -> Nullable<BigInt>,
        approved_at -> Nullable<Timestamp>,
        override_reason -> Text,
        deployed_at -> Nullable<Timestamp>,
        monitor_until -> Nullable<Timestamp>,
        rolled_back_at -> Nullable<Timestamp>,
        rollback_reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        lock_version -> Integer,
        maintenance_notice -> Text,
    }
}

diesel::table! {
    release_services (release_id, service_id) {
        release_id -> BigInt,
        service_id -> BigInt,
    }
}

diesel::table! {
    checklist_items (id) {
        id -> BigInt,
        position -> Integer,
        label -> Text,
        active -> Bool,
    }
}

diesel::table! {
    release_checks (id) {
        id -> BigInt,
        release_id -> BigInt,
        position -> Integer,
        label -> Text,
        checked_by -> Nullable<BigInt>,
        checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    release_suspects (release_id, incident_id) {
        release_id -> BigInt,
        incident_id -> BigInt,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
    }
}

// Migration 2026-12-01-000016_fixes.
diesel::table! {
    release_overrides (release_id, incident_id) {
        release_id -> BigInt,
        incident_id -> BigInt,
    }
}

diesel::table! {
    history (id) {
        id -> BigInt,
        record -> Text,
        record_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        kind -> Text,
        field -> Text,
        old_value -> Text,
        new_value -> Text,
    }
}

diesel::table! {
    help_categories (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        name -> Text,
        slug -> Text,
        description -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    help_articles (id) {
        id -> BigInt,
        category_id -> Nullable<BigInt>,
        title -> Text,
        slug -> Text,
        summary -> Text,
        body -> Text,
        visibility -> Text,
        status -> Text,
        author_id -> Nullable<BigInt>,
        updated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        revision -> Integer,
        problem_id -> Nullable<BigInt>,
        fixed_in_release -> Text,
        review_reason -> Text,
        review_flagged_at -> Nullable<Timestamp>,
        body_text -> Nullable<Text>,
        excerpt -> Text,
    }
}

diesel::table! {
    help_article_tags (article_id, tag) {
        article_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    help_related (article_id, related_id) {
        article_id -> BigInt,
        related_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    help_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        number -> Integer,
        title -> Text,
        slug -> Text,
        summary -> Text,
        body -> Text,
        visibility -> Text,
        status -> Text,
        category_id -> Nullable<BigInt>,
        tags -> Text,
        note -> Text,
        author_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    help_images (id) {
        id -> BigInt,
        article_id -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        data -> Binary,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    help_votes (id) {
        id -> BigInt,
        article_id -> BigInt,
        voter -> Text,
        user_id -> Nullable<BigInt>,
        helpful -> Bool,
        comment -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ip_hash -> Text,
    }
}

diesel::table! {
    help_old_slugs (kind, slug) {
        kind -> Text,
        slug -> Text,
        target_id -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    help_suggestion_opens (id) {
        id -> BigInt,
        article_id -> BigInt,
        user_id -> BigInt,
        opened_at -> Timestamp,
        incident_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    help_events (id) {
        id -> BigInt,
        article_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        kind -> Text,
        detail -> Text,
    }
}

// Migration 2026-12-06-000023_report_facts.
diesel::table! {
    incident_facts (incident_id) {
        incident_id -> BigInt,
        created_s -> BigInt,
        acknowledged_s -> Nullable<BigInt>,
        first_resolved_s -> Nullable<BigInt>,
        reopened_s -> Nullable<BigInt>,
        done_since_s -> Nullable<BigInt>,
        done_spans -> Text,
        service_id -> BigInt,
        organization_id -> Nullable<BigInt>,
        assignee_id -> Nullable<BigInt>,
        tier_id -> BigInt,
        severity -> Text,
        business_mttr_s -> Nullable<BigInt>,
        fr_met_s -> Nullable<BigInt>,
        fr_breach_s -> Nullable<BigInt>,
        fr_due_s -> Nullable<BigInt>,
        fr_warn_s -> Nullable<BigInt>,
        fr_outcome_s -> Nullable<BigInt>,
        res_met_s -> Nullable<BigInt>,
        res_breach_s -> Nullable<BigInt>,
        res_due_s -> Nullable<BigInt>,
        res_warn_s -> Nullable<BigInt>,
        res_outcome_s -> Nullable<BigInt>,
        paused_s -> BigInt,
        waiting_since_s -> Nullable<BigInt>,
        start_tier_id -> Nullable<BigInt>,
        top_tier_id -> Nullable<BigInt>,
        tier_stints -> Text,
        moves -> Text,
    }
}

diesel::table! {
    report_dirty (incident_id) {
        incident_id -> BigInt,
    }
}

// Migration 2026-12-07-000025_fact_packs.
diesel::table! {
    fact_packs (kind, day) {
        kind -> Integer,
        day -> BigInt,
        facts -> Binary,
    }
}

diesel::table! {
    fact_packs_dirty (kind, day) {
        kind -> Integer,
        day -> BigInt,
    }
}

// Migration 2026-12-06-000022_weekly_report.
diesel::table! {
    report_mail_runs (user_id) {
        user_id -> BigInt,
        last_date -> Date,
    }
}

// Migration 2026-12-06-000021_report_data.
diesel::table! {
    help_searches (id) {
        id -> BigInt,
        at -> Timestamp,
        query -> Text,
        results -> Integer,
    }
}

diesel::joinable!(help_articles -> help_categories (category_id));
diesel::joinable!(help_article_tags -> help_articles (article_id));
diesel::joinable!(help_votes -> help_articles (article_id));

diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(incidents -> services (service_id));
diesel::joinable!(incident_tags -> incidents (incident_id));
diesel::joinable!(incident_watchers -> incidents (incident_id));
diesel::joinable!(comments -> incidents (incident_id));
diesel::joinable!(incident_events -> incidents (incident_id));
diesel::joinable!(search_docs -> incidents (incident_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    sessions,
    setup_tokens,
    password_resets,
    login_failures,
    account_lockouts,
    audit_log,
    services,
    incidents,
    incident_tags,
    incident_watchers,
    comments,
    incident_events,
    incident_links,
    search_docs,
    tiers,
    tier_members,
    oncall_rotations,
    oncall_members,
    oncall_overrides,
    escalations,
    sla_calendars,
    sla_policies,
    outbox,
    notification_prefs,
    digest_runs,
    settings,
    inbound_messages,
    attachments,
    problems,
    problem_services,
    problem_incidents,
    problem_actions,
    history,
    bugs,
    bug_problems,
    bug_incidents,
    releases,
    release_services,
    checklist_items,
    release_checks,
    release_suspects,
    release_overrides,
    help_categories,
    help_articles,
    help_article_tags,
    help_related,
    help_revisions,
    help_images,
    help_votes,
    help_old_slugs,
    help_suggestion_opens,
    help_events,
    help_searches,
    report_mail_runs,
    incident_facts,
    report_dirty,
    fact_packs,
    fact_packs_dirty,
);

// The status page (migration 2026-12-01-000012_status).
diesel::table! {
    status_incidents (id) {
        id -> BigInt,
        incident_id -> BigInt,
        shown -> Bool,
        public_title -> Text,
        state_override -> Nullable<Text>,
        published_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    status_updates (id) {
        id -> BigInt,
        status_incident_id -> BigInt,
        phase -> Text,
        body -> Text,
        author_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        state -> Text,
        event_id -> Nullable<BigInt>,
        edited_at -> Nullable<Timestamp>,
        retracted_at -> Nullable<Timestamp>,
        retracted_by -> Nullable<BigInt>,
        retract_reason -> Text,
    }
}

diesel::table! {
    status_subscribers (id) {
        id -> BigInt,
        email -> Text,
        confirm_hash -> Nullable<Text>,
        confirm_expires_at -> Nullable<Timestamp>,
        confirm_sent_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribe_seed -> Text,
        unsubscribe_hash -> Text,
        request_ip -> Text,
        created_at -> Timestamp,
    }
}

// Status page fixes (migration 2026-12-01-000018_status_fixes).
diesel::table! {
    status_states (id) {
        id -> BigInt,
        status_incident_id -> BigInt,
        service_id -> BigInt,
        state -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    status_update_edits (id) {
        id -> BigInt,
        status_update_id -> BigInt,
        old_body -> Text,
        new_body -> Text,
        editor_id -> Nullable<BigInt>,
        at -> Timestamp,
    }
}

diesel::table! {
    status_announcements (id) {
        id -> BigInt,
        release_id -> BigInt,
        kind -> Text,
        notice -> Text,
        services -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    status_mailings (id) {
        id -> BigInt,
        kind -> Text,
        status_update_id -> Nullable<BigInt>,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        marker -> Text,
        thread -> Text,
        message_prefix -> Text,
        created_at -> Timestamp,
        last_subscriber_id -> BigInt,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    status_incidents,
    status_updates,
    status_subscribers,
    status_states,
    status_update_edits,
    status_announcements,
    status_mailings
);
diesel::allow_tables_to_appear_in_same_query!(status_states, incidents);
diesel::allow_tables_to_appear_in_same_query!(status_updates, incident_events);
diesel::allow_tables_to_appear_in_same_query!(status_incidents, incidents);

diesel::table! {
    macros (id) {
        id -> BigInt,
        name -> Text,
        body -> Text,
        internal -> Bool,
        owner_id -> Nullable<BigInt>,
        set_status -> Nullable<Text>,
        set_tier_id -> Nullable<BigInt>,
        add_tags -> Text,
        uses -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    saved_views (id) {
        id -> BigInt,
        name -> Text,
        query -> Text,
        owner_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}
