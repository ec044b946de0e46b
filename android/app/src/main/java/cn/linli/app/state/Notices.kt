package cn.linli.app.state

import uniffi.linli.LinliException

/**
 * What the user is told, as a key: the Android layer maps each to a string resource
 * (Chinese by default, English in `values-en`), so these classes stay free of text.
 */
enum class Message {
    /** No connection: everything is kept on the phone and syncs later. */
    WILL_SYNC_LATER,

    /** The server no longer accepts this device's token. */
    SIGN_IN_AGAIN,
    DEVICE_REVOKED,
    UPDATE_APP,

    /** [Notice.count] records are outside the user's area; they stay on the phone. */
    OUTSIDE_AREA,

    /** The place is not one of the user's places (their grants): pick one of theirs. */
    OUTSIDE_MY_PLACES,

    /** [Notice.count] records the server refused for another reason; they stay on the phone. */
    NOT_ACCEPTED,
    SERVER_TROUBLE,
    STORAGE_FAILED,

    /** The record is not on this phone (yet). */
    NOT_ON_DEVICE,

    /** A value was refused but belongs to no field on this form. */
    CHECK_FORM,

    /** The incident moved on elsewhere; the list shows its current status. */
    MOVE_NOT_ALLOWED,

    /** The need moved on elsewhere (done, referred); the list shows where it stands. */
    NEED_MOVED_ON,

    /** The role table: this user's role never makes this move (or never reports). */
    NOT_YOUR_ROLE,

    /** The role table: only the incident's current handler may make this move. */
    NOT_THE_HANDLER,

    /** The role table: this user may not dispatch to that person or department. */
    DISPATCH_TARGET_REFUSED,
    UNEXPECTED,
}

data class Notice(val message: Message, val count: Int = 0)

/**
 * Maps a failure to what the user can do about it. Exhaustive over [LinliException], so a new
 * error variant in the core fails this build instead of falling through to [Message.UNEXPECTED].
 */
fun Throwable.toNotice(): Notice = when (this) {
    is LinliException -> when (this) {
        is LinliException.Network -> Notice(Message.WILL_SYNC_LATER)
        is LinliException.Unauthorized -> Notice(Message.SIGN_IN_AGAIN)
        is LinliException.Revoked -> Notice(Message.DEVICE_REVOKED)
        is LinliException.UnsupportedVersion -> Notice(Message.UPDATE_APP)
        is LinliException.Server -> Notice(Message.SERVER_TROUBLE)
        is LinliException.Storage -> Notice(Message.STORAGE_FAILED)
        // The key in the Keystore no longer opens the store (restored backup, reset Keystore).
        is LinliException.WrongKey -> Notice(Message.STORAGE_FAILED)
        is LinliException.NotFound -> Notice(Message.NOT_ON_DEVICE)
        is LinliException.InvalidInput -> Notice(Message.CHECK_FORM)
        is LinliException.OutsideMyPlaces -> Notice(Message.OUTSIDE_MY_PLACES)
        is LinliException.IllegalTransition -> Notice(Message.MOVE_NOT_ALLOWED)
        is LinliException.IllegalNeedTransition -> Notice(Message.NEED_MOVED_ON)
        // The reason is a stable code from the core's role table, never free text.
        is LinliException.NotAllowed -> when (reasonCode) {
            "not_handler" -> Notice(Message.NOT_THE_HANDLER)
            "target" -> Notice(Message.DISPATCH_TARGET_REFUSED)
            else -> Notice(Message.NOT_YOUR_ROLE)
        }
    }
    // uniffi's InternalException (a Rust panic turned into an error) and anything else.
    else -> Notice(Message.UNEXPECTED)
}
