package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext
import uniffi.linli.LinliException

/**
 * A value the core refused, on the form field it belongs to. [reason] is the core's stable
 * reason code (`required`, `too_long`, `check_character`, …); the screen shows a localised
 * hint for it next to [field].
 */
data class FieldError<F>(val field: F, val reason: String)

/** The result of writing a form through the store. */
internal sealed interface Submission<out T> {
    data class Saved<T>(val value: T) : Submission<T>

    /** Nothing was written; [field] is the core's name for the refused value. */
    data class Refused(val field: String, val reason: String) : Submission<Nothing>

    data class Failed(val notice: Notice) : Submission<Nothing>
}

/** Runs [write] on [io]; validation stays in the core, this only sorts its answer. */
internal suspend fun <T> trySave(io: CoroutineDispatcher, write: () -> T): Submission<T> =
    try {
        Submission.Saved(withContext(io) { write() })
    } catch (e: LinliException.InvalidInput) {
        Submission.Refused(e.field, e.reason)
    } catch (e: LinliException.OutsideMyPlaces) {
        // On the form's place field: the picker offers only the user's places.
        Submission.Refused(e.field, "outside my places")
    } catch (e: CancellationException) {
        throw e
    } catch (e: Exception) {
        Submission.Failed(e.toNotice())
    }
