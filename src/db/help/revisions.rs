//! Help articles' revisions and images.

use super::*;

// ---------- revisions ----------

pub struct NewRevision<'a> {
    pub article: &'a Article,
    pub tags: &'a str,
    pub note: &'a str,
    pub author_id: i64,
    pub now: NaiveDateTime,
}

/// Stores the article as it now is under its current revision number.
pub fn insert_revision(conn: &mut DbConnection, r: &NewRevision<'_>) -> DbResult<()> {
    let a = r.article;
    diesel::insert_into(help_revisions::table)
        .values((
            help_revisions::article_id.eq(a.id),
            help_revisions::number.eq(a.revision),
            help_revisions::title.eq(&a.title),
            help_revisions::slug.eq(&a.slug),
            help_revisions::summary.eq(&a.summary),
            help_revisions::body.eq(&a.body),
            help_revisions::visibility.eq(&a.visibility),
            help_revisions::status.eq(&a.status),
            help_revisions::category_id.eq(a.category_id),
            help_revisions::tags.eq(r.tags),
            help_revisions::note.eq(r.note),
            help_revisions::author_id.eq(Some(r.author_id)),
            help_revisions::created_at.eq(r.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An article's revisions, newest first.
pub fn revisions(conn: &mut DbConnection, article_id: i64) -> DbResult<Vec<Revision>> {
    Ok(help_revisions::table
        .filter(help_revisions::article_id.eq(article_id))
        .select(Revision::as_select())
        .order(help_revisions::number.desc())
        .load(conn)?)
}

pub fn revision(conn: &mut DbConnection, article_id: i64, number: i32) -> DbResult<Revision> {
    Ok(help_revisions::table
        .filter(help_revisions::article_id.eq(article_id))
        .filter(help_revisions::number.eq(number))
        .select(Revision::as_select())
        .first(conn)?)
}

// ---------- images ----------

pub struct NewImage<'a> {
    pub article_id: i64,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
    pub created_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_image(conn: &mut DbConnection, i: &NewImage<'_>) -> DbResult<i64> {
    Ok(diesel::insert_into(help_images::table)
        .values((
            help_images::article_id.eq(i.article_id),
            help_images::filename.eq(i.filename),
            help_images::content_type.eq(i.content_type),
            help_images::size.eq(i64::try_from(i.data.len()).unwrap_or(i64::MAX)),
            help_images::data.eq(i.data),
            help_images::created_at.eq(i.now),
            help_images::created_by.eq(Some(i.created_by)),
        ))
        .returning(help_images::id)
        .get_result(conn)?)
}

pub fn image(conn: &mut DbConnection, id: i64) -> DbResult<ImageMeta> {
    Ok(help_images::table.find(id).select(ImageMeta::as_select()).first(conn)?)
}

pub fn image_data(conn: &mut DbConnection, id: i64) -> DbResult<Vec<u8>> {
    Ok(help_images::table.find(id).select(help_images::data).first(conn)?)
}

/// Deletes an image of an article; false when there was none with this id on that article.
pub fn delete_image(conn: &mut DbConnection, article_id: i64, image_id: i64) -> DbResult<bool> {
    Ok(diesel::delete(help_images::table.find(image_id).filter(help_images::article_id.eq(article_id)))
        .execute(conn)?
        > 0)
}

pub fn images_of(conn: &mut DbConnection, article_id: i64) -> DbResult<Vec<ImageMeta>> {
    Ok(help_images::table
        .filter(help_images::article_id.eq(article_id))
        .select(ImageMeta::as_select())
        .order(help_images::id.asc())
        .load(conn)?)
}
