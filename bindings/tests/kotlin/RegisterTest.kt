package cn.linli.tests

import cn.linli.app.state.HouseholdDetailState
import cn.linli.app.state.HouseholdField
import cn.linli.app.state.HouseholdFormState
import cn.linli.app.state.MemberFormState
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Rule
import org.junit.Test
import uniffi.linli.CareTag
import uniffi.linli.Gender
import uniffi.linli.Housing
import uniffi.linli.NewMember
import uniffi.linli.PersonResidence
import uniffi.linli.Relation
import uniffi.linli.Residency

/** A mainland ID number with its check character (GB 11643), from its first 17 digits. */
fun idNumber(first17: String): String {
    val weights = intArrayOf(7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    val sum = first17.mapIndexed { i, c -> (c - '0') * weights[i] }.sum()
    return first17 + "10X98765432"[sum % 11]
}

/**
 * Keeping the register current from the phone (issue 10, item 1): a grid worker registers a
 * household with its members, is warned of a household already at that door, edits and
 * removes members; the core refuses a wrong ID check character on its field and writes
 * nothing; the household syncs and the building leader sees it.
 */
class RegisterTest {
    @get:Rule
    val stores = TempStores()

    private val io = Dispatchers.IO

    @Test
    fun aNewHouseholdIsCheckedWarnedSyncedAndSeenByTheLeader() = runBlocking {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            limei.sync(server.settings(LI_MEI), null)

            val form = HouseholdFormState(limei, io)
            form.loadPlaces()
            assertTrue(form.ui.value.showSensitive, "a grid worker sees phones and ID numbers")
            val places = form.ui.value.places.map { it.id }
            assertTrue("b-1" in places && "u-1-1" in places, "$places")
            assertFalse("g-1" in places, "a household lives in a building or unit")

            // No place yet: refused on the place field before the core is asked.
            assertFalse(form.submit())
            assertNotNull(form.ui.value.errors[HouseholdField.PLACE])

            form.setPlace("u-1-1")
            form.setRoom("301")
            form.setResidency(Residency.RESIDENT)
            form.setHousing(Housing.RESETTLEMENT)
            form.setTag(CareTag.ELDERLY_ALONE, true)
            val id = idNumber("11010519491231002")
            // A wrong check character: the core refuses it on its field, nothing is written.
            val wrong = id.dropLast(1) + if (id.last() == '0') '1' else '0'
            form.addMember(NewMember("王秀兰", Relation.HEAD, 1949, "13800138000", wrong))
            assertFalse(form.submit())
            assertNotNull(form.ui.value.errors[HouseholdField.ID_NUMBER])
            assertTrue(limei.householdsIn("b-1").isEmpty())
            form.removeMember(0)
            form.addMember(NewMember("王秀兰", Relation.HEAD, 1949, "13800138000", id))
            assertTrue(form.submit())
            val household = assertNotNull(form.ui.value.savedHouseholdId)

            // The same door again: warned first, saved on the second try (tenants share doors).
            val again = HouseholdFormState(limei, io)
            again.setPlace("u-1-1")
            again.setRoom("301")
            assertFalse(again.submit())
            assertEquals(listOf(household), again.ui.value.duplicates.map { it.id })
            assertEquals("王秀兰", again.ui.value.duplicates.single().headName)
            assertEquals(1, limei.householdsIn("b-1").size)
            assertTrue(again.submit())
            assertEquals(2, limei.householdsIn("b-1").size)

            // A member added, edited, then one removed.
            val add = MemberFormState(limei, household, null, io)
            add.setName("李建国")
            add.setRelation(Relation.CHILD)
            add.setBirthYear("19x5")
            assertFalse(add.submit())
            assertNotNull(add.ui.value.errors[HouseholdField.BIRTH_YEAR])
            add.setBirthYear("1975")
            assertTrue(add.submit())
            val son = limei.household(household).members.single { it.name == "李建国" }
            val edit = MemberFormState(limei, household, son, io)
            assertEquals("1975", edit.ui.value.birthYear)
            edit.setPhone("12345")
            assertFalse(edit.submit())
            assertNotNull(edit.ui.value.errors[HouseholdField.PHONE])
            edit.setPhone("13912345678")
            edit.setGender(Gender.MALE)
            edit.setResidence(PersonResidence.FLOATING)
            edit.setTag(CareTag.DISABLED, true)
            assertTrue(edit.submit())
            val sonNow = limei.household(household).members.single { it.id == son.id }
            assertEquals(Gender.MALE, sonNow.gender)
            assertEquals(PersonResidence.FLOATING, sonNow.residence)
            assertEquals(listOf(CareTag.DISABLED), sonNow.tags)
            assertEquals("13912345678", limei.household(household).members.single { it.id == son.id }.phone)
            val head = limei.household(household).members.single { it.relation == Relation.HEAD }
            // A move-out in the future is refused on its field; a real one keeps the date.
            val leaving = MemberFormState(limei, household, head, io)
            assertFalse(leaving.moveOut(limei.now() + 10 * DAY_MS))
            assertNotNull(leaving.ui.value.errors[HouseholdField.MOVED_OUT_AT])
            val leftOn = limei.now() - 3 * DAY_MS
            assertTrue(leaving.moveOut(leftOn))
            assertEquals(listOf("李建国"), limei.household(household).members.map { it.name })
            assertEquals(listOf(leftOn), limei.formerMembers(household).map { it.movedOutAt })

            // Synced, the building leader of b-1 sees both households.
            limei.sync(server.settings(LI_MEI), null)
            zhao.sync(server.settings(ZHAO), null)
            val seen = zhao.householdsIn("b-1")
            assertEquals(2, seen.size)
            val mine = zhao.household(household)
            assertEquals(listOf(CareTag.ELDERLY_ALONE), mine.tags)
            assertEquals("13912345678", mine.members.single().phone)
            assertNull(mine.members.single().idNumber)
        }
    }

    @Test
    fun aLeaderSeesNoSensitiveFieldsAndHisEditKeepsThem() = runBlocking<Unit> {
        DemoServer.start(stores.dir).use { server ->
            val limei = stores.open(LI_MEI, server.device(LI_MEI).deviceId, places = false)
            val zhao = stores.open(ZHAO, server.device(ZHAO).deviceId, places = false)
            limei.sync(server.settings(LI_MEI), null)
            zhao.sync(server.settings(ZHAO), null)

            // 李梅 registers a household; its head has a phone, an ID number and a sensitive tag.
            val form = HouseholdFormState(limei, io)
            form.loadPlaces()
            form.setPlace("u-1-1")
            form.setRoom("502")
            val id = idNumber("11010519580101003")
            form.addMember(NewMember("刘桂芳", Relation.HEAD, 1958, "13800138001", id))
            assertTrue(form.submit())
            val household = assertNotNull(form.ui.value.savedHouseholdId)
            val head = limei.household(household).members.single()
            val tag = MemberFormState(limei, household, head, io)
            tag.load()
            assertTrue(tag.ui.value.showSensitive)
            tag.setTag(CareTag.DISABLED, true)
            assertTrue(tag.submit())
            limei.sync(server.settings(LI_MEI), null)
            zhao.sync(server.settings(ZHAO), null)

            // 赵 (building leader) sees no sensitive fields on any register screen.
            val leaderForm = HouseholdFormState(zhao, io)
            leaderForm.loadPlaces()
            assertFalse(leaderForm.ui.value.showSensitive)
            val detail = HouseholdDetailState(zhao, household, stores.scope, io)
            val shown = detail.ui.await { !it.loading }
            assertFalse(shown.showSensitive)
            val onHisPhone = zhao.household(household).members.single()
            val edit = MemberFormState(zhao, household, onHisPhone, io)
            assertFalse(edit.ui.value.showSensitive, "hidden until loaded")
            edit.load()
            assertFalse(edit.ui.value.showSensitive)
            // He corrects the birth year only; the screen never showed phone, ID or tags.
            edit.setBirthYear("1957")
            assertTrue(edit.submit())
            zhao.sync(server.settings(ZHAO), null)
            limei.sync(server.settings(LI_MEI), null)

            val after = limei.household(household).members.single()
            assertEquals(1957, after.birthYear)
            assertEquals("13800138001", after.phone)
            assertEquals(id, after.idNumber)
            assertEquals(listOf(CareTag.DISABLED), after.tags)
            // 李梅's own detail screen shows them.
            val hers = HouseholdDetailState(limei, household, stores.scope, io)
            assertTrue(hers.ui.await { !it.loading }.showSensitive)
        }
    }
}
