/**
 * Groups in the Mini App: the caller's groups, a group's page (members and roles, join requests,
 * its invite link and QR code, leaderboard, matches feed) and the editor of its rule templates.
 */

import { gameName, t } from './i18n.js'
import { action, el, eventually, fill, linkWithQr, loading, showSocial, social } from './social.js'
import * as tg from './telegram.js'

const RUNS = ['owner', 'admin']

export async function openGroups() {
  const screen = showSocial(t('groups'), loading())
  const groups = await eventually(() => social.api('GET', '/api/billiards/groups'))
  const form = el('form', { id: 'new-group', className: 'column' },
    el('input', { id: 'group-name', placeholder: t('groupName'), maxLength: 60, required: true }),
    el('label', { className: 'check' }, el('input', { id: 'group-open', type: 'checkbox', checked: true }),
      ` ${t('groupOpen')}`),
    el('button', { type: 'submit', className: 'primary' }, t('createGroup')))
  form.onsubmit = async (event) => {
    event.preventDefault()
    try {
      const group = await social.api('POST', '/api/billiards/groups', {
        name: document.getElementById('group-name').value.trim(),
        open: document.getElementById('group-open').checked,
      })
      sessionStorage.setItem(`billiards.group.${group.id}`, group.invite)
      tg.haptic('success')
      await social.go(`/billiards/group/${group.id}`)
    } catch (error) {
      social.problem(error)
    }
  }
  fill(screen,
    el('h2', {}, t('groups')),
    groups.length === 0
      ? el('p', { className: 'muted', id: 'no-groups' }, t('noGroups'))
      : el('ul', { className: 'list plain', id: 'my-groups' }, ...groups.map((group) => el('li', {},
        el('a', {
          href: `/billiards/group/${group.id}`,
          onclick: (event) => { event.preventDefault(); social.go(`/billiards/group/${group.id}`) },
        }, group.name),
        el('span', { className: 'muted' }, ` · ${t(`role_${group.role}`)} · ${t('membersCount', group.members)}`)))),
    el('h3', {}, t('createGroup')), form,
  )
}

/** A group's page; `expect(group)`: what the read model should show (after a command). */
export async function openGroup(id, expect = () => true) {
  const screen = showSocial(t('group'), loading())
  const invite = new URLSearchParams(location.search).get('invite')
  let group = await eventually(() => social.api('GET', `/api/billiards/groups/${id}`), expect)
  if (group.role === null && invite) {
    // arrived by the invite link: join at once, then see the group as a member
    await social.api('POST', `/api/billiards/groups/${id}/join`, { invite })
    tg.haptic('success')
    history.replaceState(null, '', `/billiards/group/${id}`)
    group = await eventually(() => social.api('GET', `/api/billiards/groups/${id}`), (g) => g.role !== null)
  }
  const runs = RUNS.includes(group.role)
  const visible = group.open || group.role !== null // a closed group shows itself to members
  const [board, feed, templates] = await Promise.all([
    visible ? social.api('GET', `/api/billiards/groups/${id}/leaderboard`) : null,
    visible ? social.api('GET', `/api/billiards/groups/${id}/feed`) : null,
    social.api('GET', `/api/billiards/groups/${id}/templates`),
  ])
  const version = group.version
  const reload = () => openGroup(id, (g) => g.version > version)
  fill(screen,
    el('h2', { id: 'group-title' }, group.name),
    el('p', { className: 'muted' }, `${group.open ? t('groupOpenShort') : t('groupClosed')}`,
      group.role ? ` · ${t(`role_${group.role}`)}` : ''),
    joinBox(group, reload),
    runs ? inviteBox(group) : null,
    runs && group.requests.length ? requestsBox(group, reload) : null,
    membersBox(group, reload),
    board && leaderboardBox(board),
    feed && feedBox(feed),
    templatesBox(group, templates, () => templatesChanged(group, templates)),
  )
}

function joinBox(group, reload) {
  if (group.role === 'owner') return null
  if (group.role !== null) {
    return el('div', { className: 'row end' }, action(t('leaveGroup'), async () => {
      await social.api('DELETE', `/api/billiards/groups/${group.id}/members/${encodeURIComponent(social.session.account.id)}`)
      await social.go('/billiards/groups')
    }, { className: 'quiet small' }))
  }
  if (group.asked) return el('p', { className: 'muted', id: 'asked' }, t('askedToJoin'))
  return action(group.open ? t('joinGroup') : t('askToJoin'), async () => {
    await social.api('POST', `/api/billiards/groups/${group.id}/join`, {})
    tg.haptic('success')
    await reload()
  }, { className: 'primary big', id: 'join-group' })
}

function inviteBox(group) {
  const box = el('div', { className: 'card inner', id: 'group-invite' }, el('h3', {}, t('inviteLink')))
  const show = (invite) => {
    box.replaceChildren(el('h3', {}, t('inviteLink')),
      linkWithQr(`/billiards/group/${group.id}?invite=${encodeURIComponent(invite)}`), renew)
  }
  const renew = action(t('newInviteLink'), async () => {
    const answer = await social.api('POST', `/api/billiards/groups/${group.id}/invite`)
    sessionStorage.setItem(`billiards.group.${group.id}`, answer.invite)
    show(answer.invite)
  }, { className: 'small quiet' })
  const known = sessionStorage.getItem(`billiards.group.${group.id}`)
  if (known) show(known)
  else box.append(renew)
  return box
}

function requestsBox(group, reload) {
  return el('div', { id: 'group-requests' }, el('h3', {}, t('joinRequests')),
    el('ul', { className: 'list plain' }, ...group.requests.map((request) => el('li', { className: 'row' },
      el('span', { className: 'grow' }, request.name),
      ...['approve', 'decline'].map((verb) => action(t(verb), async () => {
        await social.api('POST', `/api/billiards/groups/${group.id}/requests/${encodeURIComponent(request.account)}/${verb}`)
        await reload()
      }, { className: `small ${verb === 'approve' ? 'primary' : ''}` }))))))
}

function membersBox(group, reload) {
  const me = social.session.account?.id
  const rows = group.members.map((member) => {
    const controls = []
    if (group.role === 'owner' && member.account !== me) {
      const select = el('select', { className: 'role', dataset: { account: member.account } },
        ...['member', 'admin', 'owner'].map((role) => new Option(t(`role_${role}`), role)))
      select.value = member.role
      select.onchange = async () => {
        try {
          await social.api('PUT', `/api/billiards/groups/${group.id}/members/${encodeURIComponent(member.account)}/role`, { role: select.value })
          await reload()
        } catch (error) {
          social.problem(error)
        }
      }
      controls.push(select)
    }
    const removable = member.role === 'member' || (member.role === 'admin' && group.role === 'owner')
    if (RUNS.includes(group.role) && member.account !== me && removable) {
      controls.push(action('✕', async () => {
        await social.api('DELETE', `/api/billiards/groups/${group.id}/members/${encodeURIComponent(member.account)}`)
        await reload()
      }, { className: 'small quiet', title: t('remove') }))
    }
    return el('li', { className: 'row', dataset: { account: member.account } },
      el('span', { className: 'grow' }, member.name),
      controls.length ? null : el('span', { className: 'muted' }, t(`role_${member.role}`)), ...controls)
  })
  const hidden = group.members.length === 0 && group.count
  return el('div', { id: 'group-members' }, el('h3', {}, t('members')),
    hidden ? el('p', { className: 'muted' }, t('membersCount', group.count))
      : el('ul', { className: 'list plain' }, ...rows))
}

function leaderboardBox(board) {
  // Ranked members first (with their rank and rating), then those without a rated match yet.
  const rows = board.players.map((player) => el('li', {},
    player.rank != null ? `${player.rank}. ${player.name ?? player.account}` : player.name ?? player.account,
    player.rating != null ? el('span', { className: 'muted' }, ` ${player.rating}`) : null))
  return el('div', { id: 'group-leaderboard' }, el('h3', {}, t('leaderboard')),
    board.ranked ? null : el('p', { className: 'muted' }, t('notRankedYet')),
    el('ul', { className: 'list plain' }, ...rows))
}

function feedBox(feed) {
  return el('div', { id: 'group-feed' }, el('h3', {}, t('groupMatches')),
    feed.length === 0 ? el('p', { className: 'muted' }, t('noMatches'))
      : el('ul', { className: 'list plain' }, ...feed.map((match) => el('li', {},
        el('a', {
          href: `/billiards/match/${match.match_id}`,
          onclick: (event) => { event.preventDefault(); social.go(`/billiards/match/${match.match_id}`) },
        }, match.players.map((p) => p.name).join(' — ')),
        el('span', { className: 'muted' }, ` · ${match.template}${match.finished ? '' : ` · ${t('live')}`}`)))))
}

// -- the group's templates -----------------------------------------------------------------------

async function templatesChanged(group, before) {
  const url = `/api/billiards/groups/${group.id}/templates`
  await eventually(() => social.api('GET', url), (now) => JSON.stringify(now) !== JSON.stringify(before))
  await openGroup(group.id)
}

function templatesBox(group, templates, reload) {
  const runs = RUNS.includes(group.role)
  const list = el('ul', { className: 'list plain' }, ...templates.map((template) => el('li', { className: 'row' },
    el('span', { className: 'grow' }, `${template.name} · ${gameName(template.base)} · v${template.version}`),
    runs ? action(t('edit'), () => editTemplate(group, template, reload), { className: 'small' }) : null,
    runs ? action('✕', async () => {
      await social.api('DELETE', `/api/billiards/groups/${group.id}/templates/${template.id}`)
      await reload()
    }, { className: 'small quiet', title: t('remove') }) : null)))
  return el('div', { id: 'group-templates' }, el('h3', {}, t('groupTemplates')),
    templates.length ? list : el('p', { className: 'muted' }, t('noTemplates')),
    runs ? action(t('newTemplate'), () => editTemplate(group, null, reload), { className: 'small', id: 'new-template' }) : null,
    el('div', { id: 'template-editor' }))
}

/** The editor: a base game's parameters as inputs, the template's values (or the game's). */
async function editTemplate(group, template, reload) {
  const builtIns = (await social.api('GET', '/api/billiards/templates')).filter((tpl) => tpl.built_in)
  const editor = document.getElementById('template-editor')
  const base = el('select', { id: 'template-base', disabled: template !== null },
    ...builtIns.map((tpl) => new Option(gameName(tpl.base), tpl.base)))
  base.value = template?.base ?? builtIns[0].base
  const name = el('input', { id: 'template-name', maxLength: 80, value: template?.name ?? '', placeholder: t('templateName') })
  const fields = el('div', { className: 'column', id: 'template-params' })
  const defaults = () => builtIns.find((tpl) => tpl.base === base.value).params
  const draw = () => {
    const values = { ...defaults(), ...(template?.params ?? {}) }
    fields.replaceChildren(...Object.entries(defaults()).filter(([key]) => key !== 'game').map(([key, initial]) => {
      const value = values[key]
      const input = typeof initial === 'boolean'
        ? el('input', { type: 'checkbox', checked: value })
        : el('input', { value: typeof value === 'object' && value !== null ? JSON.stringify(value) : value ?? '' })
      input.dataset.param = key
      input.dataset.kind = { boolean: 'bool', number: 'number', string: 'text' }[typeof initial] ?? 'json'
      return el('label', { className: 'param' }, `${key} `, input)
    }))
  }
  base.onchange = draw
  draw()
  const save = action(t('save'), async () => {
    const params = {}
    for (const input of fields.querySelectorAll('input')) {
      const { param, kind } = input.dataset
      const value = kind === 'bool' ? input.checked : kind === 'number' ? Number(input.value)
        : kind === 'text' ? input.value : input.value === '' ? null : JSON.parse(input.value)
      if (JSON.stringify(value) !== JSON.stringify(defaults()[param])) params[param] = value
    }
    const url = `/api/billiards/groups/${group.id}/templates`
    if (template === null) await social.api('POST', url, { base: base.value, name: name.value.trim(), params })
    else await social.api('PUT', `${url}/${template.id}`, { name: name.value.trim(), params })
    tg.haptic('success')
    await reload()
  }, { className: 'primary', id: 'save-template' })
  editor.replaceChildren(el('div', { className: 'card inner' },
    el('label', { htmlFor: 'template-base' }, t('game')), base,
    el('label', { htmlFor: 'template-name' }, t('templateName')), name, fields,
    el('div', { className: 'row end' }, save)))
}
