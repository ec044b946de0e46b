package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import uniffi.linli.CareTag
import uniffi.linli.Gender
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.Member
import uniffi.linli.MemberDetails
import uniffi.linli.NewMember
import uniffi.linli.PersonResidence
import uniffi.linli.Relation

data class MemberFormUi(
    val name: String = "",
    val relation: Relation = Relation.HEAD,
    /** As typed; a year of four digits, or empty. */
    val birthYear: String = "",
    val phone: String = "",
    val idNumber: String = "",
    val gender: Gender? = null,
    /** Per person: 户籍 / 常住 / 流动. */
    val residence: PersonResidence? = null,
    /** The person's own care tags (who is disabled, under community correction, …). */
    val tags: Set<CareTag> = emptySet(),
    /**
     * Whether the user's role sees phones, ID numbers and sensitive tags (grid workers and
     * admins). A leader's screen hides them; the form still holds the member's values and
     * saves them unchanged, so hiding never blanks them. False until [MemberFormState.load].
     */
    val showSensitive: Boolean = false,
    val saving: Boolean = false,
    val errors: Map<HouseholdField, FieldError<HouseholdField>> = emptyMap(),
    val notice: Notice? = null,
    /** Set once saved or removed: the screen closes. */
    val done: Boolean = false,
)

/**
 * Adding, editing or removing one member of a household (户内成员). Editing starts from the
 * member's current values ([member]); the core checks the ID number's check character, the
 * phone number and the lengths, and a refused value comes back on its field with nothing
 * written. Fields the user's role may not see ([MemberFormUi.showSensitive] false) are left
 * out by the screen but kept by the form: an edit writes only what changed (the core's
 * `editMember`), so a leader's edit keeps the hidden phone, ID number and tags.
 */
class MemberFormState(
    private val store: LinliStore,
    val householdId: String,
    private val member: Member?,
    private val io: CoroutineDispatcher,
) {
    private val mutableUi = MutableStateFlow(
        member?.let {
            MemberFormUi(
                name = it.name,
                relation = it.relation,
                birthYear = it.birthYear?.toString() ?: "",
                phone = it.phone ?: "",
                idNumber = it.idNumber ?: "",
                gender = it.gender,
                residence = it.residence,
                tags = it.tags.toSet(),
            )
        } ?: MemberFormUi(),
    )
    val ui: StateFlow<MemberFormUi> = mutableUi.asStateFlow()

    /** Reads whether the user sees sensitive fields (the core's rule, by role). */
    suspend fun load() {
        val sensitive = try {
            withContext(io) { store.seesSensitive() }
        } catch (e: LinliException) {
            false
        }
        mutableUi.update { it.copy(showSensitive = sensitive) }
    }

    fun setName(name: String) = mutableUi.update { it.copy(name = name, errors = it.errors - HouseholdField.MEMBER_NAME) }

    fun setRelation(relation: Relation) = mutableUi.update { it.copy(relation = relation) }

    fun setBirthYear(year: String) = mutableUi.update { it.copy(birthYear = year, errors = it.errors - HouseholdField.BIRTH_YEAR) }

    fun setPhone(phone: String) = mutableUi.update { it.copy(phone = phone, errors = it.errors - HouseholdField.PHONE) }

    fun setGender(gender: Gender?) = mutableUi.update { it.copy(gender = gender) }

    fun setResidence(residence: PersonResidence?) = mutableUi.update { it.copy(residence = residence) }

    fun setTag(tag: CareTag, on: Boolean) =
        mutableUi.update { it.copy(tags = if (on) it.tags + tag else it.tags - tag) }

    fun setIdNumber(id: String) = mutableUi.update { it.copy(idNumber = id, errors = it.errors - HouseholdField.ID_NUMBER) }

    /** Saves (adds or edits) the member; true when written. */
    suspend fun submit(): Boolean {
        val form = ui.value
        if (form.saving || form.done) return false
        val year = form.birthYear.trim()
        val birthYear = if (year.isEmpty()) null else year.toIntOrNull()
        if (year.isNotEmpty() && birthYear == null) {
            mutableUi.update {
                it.copy(errors = mapOf(HouseholdField.BIRTH_YEAR to FieldError(HouseholdField.BIRTH_YEAR, "not a year")))
            }
            return false
        }
        mutableUi.update { it.copy(saving = true, errors = emptyMap(), notice = null) }
        val fields = NewMember(
            name = form.name.trim(),
            relation = form.relation,
            birthYear = birthYear,
            phone = form.phone.trim().ifEmpty { null },
            idNumber = form.idNumber.trim().ifEmpty { null },
        )
        val details = MemberDetails(gender = form.gender, residence = form.residence, tags = form.tags.toList())
        val result = trySave(io) {
            val id = when (member) {
                null -> store.addMember(householdId, fields)
                else -> member.id.also { store.editMember(householdId, it, fields) }
            }
            store.setMemberDetails(householdId, id, details)
        }
        finish(result)
        return result is Submission.Saved
    }

    /** Records the member's move-out (迁出) on [at] (milliseconds); true when written. */
    suspend fun moveOut(at: Long): Boolean {
        val id = member?.id ?: return false
        if (ui.value.saving || ui.value.done) return false
        mutableUi.update { it.copy(saving = true, notice = null) }
        val result = trySave(io) { store.moveOutMember(householdId, id, at) }
        finish(result)
        return result is Submission.Saved
    }

    /** Removes the member (moved out, deceased, entered by mistake); true when written. */
    suspend fun remove(): Boolean {
        val id = member?.id ?: return false
        if (ui.value.saving || ui.value.done) return false
        mutableUi.update { it.copy(saving = true, notice = null) }
        val result = trySave(io) { store.removeMember(householdId, id) }
        finish(result)
        return result is Submission.Saved
    }

    private fun <T> finish(result: Submission<T>) = mutableUi.update {
        when (result) {
            is Submission.Saved -> it.copy(saving = false, done = true)
            is Submission.Refused -> when (val errors = refusedOn(HouseholdField.of(result.field), result)) {
                null -> it.copy(saving = false, notice = Notice(Message.CHECK_FORM))
                else -> it.copy(saving = false, errors = errors)
            }
            is Submission.Failed -> it.copy(saving = false, notice = result.notice)
        }
    }
}
